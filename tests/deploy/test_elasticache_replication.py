"""Rule elasticache-replication: Redis settings ElastiCache accepts, in every environment shape."""

import pytest

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.elasticache_replication import RULE
from tests.deploy.conftest import broken, find, resource_of_type


@pytest.mark.parametrize("stage", ["Dev", "Prod"])
def test_single_node_and_highly_available_groups_pass(
    shipped_templates: list[StackTemplate], stage: str
) -> None:
    data = find(shipped_templates, f"MoodlePipeline/{stage}/Data")
    group = resource_of_type(data.body, "AWS::ElastiCache::ReplicationGroup")["Properties"]
    assert group["AutomaticFailoverEnabled"] is (stage == "Prod")
    assert not RULE.violations([data])


def test_catches_token_without_tls_failover_without_replica_and_overlapping_windows(
    shipped_templates: list[StackTemplate],
) -> None:
    def wrong(body: dict) -> None:
        properties = resource_of_type(body, "AWS::ElastiCache::ReplicationGroup")["Properties"]
        properties.update(
            TransitEncryptionEnabled=False,
            AutomaticFailoverEnabled=True,
            MultiAZEnabled=True,
            ReplicasPerNodeGroup=0,
            SnapshotWindow="04:00-05:00",
        )

    messages = [
        v.message
        for v in RULE.violations([broken(find(shipped_templates, "MoodlePipeline/Dev/Data"), wrong)])
    ]
    assert messages == [
        "an AuthToken needs TransitEncryptionEnabled true",
        "AutomaticFailoverEnabled needs at least one replica",
        "maintenance window sun:04:30-sun:05:30 overlaps snapshot window 04:00-05:00",
    ]
