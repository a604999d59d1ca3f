"""ElastiCache replication groups ask only for combinations ElastiCache accepts."""

from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import DeployRule, Json, StackTemplate, Violation
from compliance.deploy_rules.rds_instance_settings import overlaps


def _replicas(properties: dict[str, Json]) -> int:
    if "ReplicasPerNodeGroup" in properties:
        return int(properties["ReplicasPerNodeGroup"])
    return int(properties.get("NumCacheClusters", 1)) - 1


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """ElastiCache refuses an AUTH token without encryption in transit
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-elasticache-replicationgroup.html#cfn-elasticache-replicationgroup-authtoken),
    automatic failover without a replica to fail over to, and Multi-AZ without automatic failover
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html); its maintenance window
    must not overlap the snapshot window
    (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/backups-automatic.html)."""
    for template in templates:
        for logical_id, group in template.resources("AWS::ElastiCache::ReplicationGroup"):
            properties = group.get("Properties", {})
            problems = []
            if "AuthToken" in properties and properties.get("TransitEncryptionEnabled") is not True:
                problems.append("an AuthToken needs TransitEncryptionEnabled true")
            if properties.get("AutomaticFailoverEnabled") is True and _replicas(properties) < 1:
                problems.append("AutomaticFailoverEnabled needs at least one replica")
            if (
                properties.get("MultiAZEnabled") is True
                and properties.get("AutomaticFailoverEnabled") is not True
            ):
                problems.append("MultiAZEnabled needs AutomaticFailoverEnabled")
            maintenance, snapshot = (
                properties.get("PreferredMaintenanceWindow"),
                properties.get("SnapshotWindow"),
            )
            if isinstance(maintenance, str) and isinstance(snapshot, str) and overlaps(maintenance, snapshot):
                problems.append(f"maintenance window {maintenance} overlaps snapshot window {snapshot}")
            yield from (Violation(template.path, logical_id, problem) for problem in problems)


RULE = DeployRule(
    "elasticache-replication", "Redis replication groups use settings ElastiCache accepts", check
)
