"""Database, cache and file system: safety and sizing per environment."""

from typing import Any

import pytest
from aws_cdk.assertions import Match

from moodle_infra import image_contract
from moodle_infra.database import estimated_max_connections
from tests.conftest import TemplateOf


def _only(template: TemplateOf, environment: str, resource_type: str) -> dict[str, Any]:
    resources = template(environment, "Data").find_resources(resource_type)
    assert len(resources) == 1, f"{environment}: expected one {resource_type}, found {list(resources)}"
    return dict(next(iter(resources.values())))


def test_database_is_mysql_84_kept_patched_encrypted_and_private(template: TemplateOf) -> None:
    """Major version only, minor upgrades by RDS (issue 10 item 5; the deploy rule rds-engine-version
    explains why)."""
    properties = _only(template, "dev", "AWS::RDS::DBInstance")["Properties"]
    assert properties["Engine"] == "mysql"
    assert properties["EngineVersion"] == "8.4"
    assert properties["StorageEncrypted"] is True
    assert properties["PubliclyAccessible"] is False
    assert properties["AutoMinorVersionUpgrade"] is True
    parameters = _only(template, "dev", "AWS::RDS::DBParameterGroup")["Properties"]
    assert parameters["Family"] == "mysql8.4"
    assert properties["EnableCloudwatchLogsExports"] == ["error", "slowquery"]


@pytest.mark.parametrize(
    ("environment", "multi_az", "retention", "deletion_protection", "deletion_policy", "instance_class"),
    [
        ("dev", False, 1, False, "Delete", "db.t4g.micro"),
        ("staging", False, 7, True, "Snapshot", "db.t4g.medium"),
        ("prod", True, 14, True, "Retain", "db.m7g.large"),
    ],
)
def test_database_safety_and_size_follow_configuration(
    template: TemplateOf,
    environment: str,
    multi_az: bool,
    retention: int,
    deletion_protection: bool,
    deletion_policy: str,
    instance_class: str,
) -> None:
    instance = _only(template, environment, "AWS::RDS::DBInstance")
    properties = instance["Properties"]
    assert properties["MultiAZ"] is multi_az
    assert properties["BackupRetentionPeriod"] == retention
    assert properties["DeletionProtection"] is deletion_protection
    assert properties["DBInstanceClass"] == instance_class
    assert instance["DeletionPolicy"] == deletion_policy
    assert instance["UpdateReplacePolicy"] == deletion_policy


def test_database_credentials_are_generated_in_secrets_manager(template: TemplateOf) -> None:
    data = template("dev", "Data")
    data.has_resource_properties(
        "AWS::SecretsManager::Secret",
        {"GenerateSecretString": Match.object_like({"SecretStringTemplate": '{"username":"moodle"}'})},
    )
    password = _only(template, "dev", "AWS::RDS::DBInstance")["Properties"]["MasterUserPassword"]
    assert "resolve:secretsmanager" in str(password)


def test_database_character_set_is_utf8mb4(template: TemplateOf) -> None:
    template("dev", "Data").has_resource_properties(
        "AWS::RDS::DBParameterGroup",
        {
            "Parameters": Match.object_like(
                {"character_set_server": "utf8mb4", "collation_server": "utf8mb4_unicode_ci"}
            )
        },
    )


def test_database_events_go_to_the_notifications_topic(template: TemplateOf) -> None:
    subscription = _only(template, "prod", "AWS::RDS::EventSubscription")["Properties"]
    assert subscription["SourceType"] == "db-instance"
    assert "Fn::ImportValue" in subscription["SnsTopicArn"], "the topic lives in the Audit stack"
    assert {"failover", "failure", "low storage"} <= set(subscription["EventCategories"])


@pytest.mark.parametrize(
    ("environment", "replicas", "failover", "node_type"),
    [
        ("dev", 0, False, "cache.t4g.micro"),
        ("staging", 1, True, "cache.t4g.small"),
        ("prod", 1, True, "cache.m7g.large"),
    ],
)
def test_cache_availability_follows_configuration(
    template: TemplateOf, environment: str, replicas: int, failover: bool, node_type: str
) -> None:
    properties = _only(template, environment, "AWS::ElastiCache::ReplicationGroup")["Properties"]
    assert properties["ReplicasPerNodeGroup"] == replicas
    assert properties["AutomaticFailoverEnabled"] is failover
    assert properties["MultiAZEnabled"] is failover
    assert properties["CacheNodeType"] == node_type


def test_cache_is_encrypted_in_transit_and_at_rest_with_an_auth_token(template: TemplateOf) -> None:
    properties = _only(template, "prod", "AWS::ElastiCache::ReplicationGroup")["Properties"]
    assert properties["Engine"] == "redis"
    assert properties["EngineVersion"] == "7.1"
    assert properties["TransitEncryptionEnabled"] is True
    assert properties["AtRestEncryptionEnabled"] is True
    assert "resolve:secretsmanager" in str(properties["AuthToken"])
    assert properties["NumNodeGroups"] == 1, "Moodle's Redis session handler and store need cluster mode off"


def test_file_system_is_encrypted_elastic_and_backed_up(template: TemplateOf) -> None:
    properties = _only(template, "prod", "AWS::EFS::FileSystem")["Properties"]
    assert properties["Encrypted"] is True
    assert properties["PerformanceMode"] == "generalPurpose"
    assert properties["ThroughputMode"] == "elastic"
    assert properties["BackupPolicy"] == {"Status": "ENABLED"}


def test_access_point_owner_is_the_image_runtime_user(template: TemplateOf) -> None:
    properties = _only(template, "dev", "AWS::EFS::AccessPoint")["Properties"]
    uid, gid = str(image_contract.RUNTIME_UID), str(image_contract.RUNTIME_GID)
    assert properties["PosixUser"] == {"Uid": uid, "Gid": gid}
    assert properties["RootDirectory"]["CreationInfo"] == {
        "OwnerUid": uid,
        "OwnerGid": gid,
        "Permissions": "750",
    }


@pytest.mark.parametrize(
    ("environment", "policy"), [("dev", "Delete"), ("staging", "Retain"), ("prod", "Retain")]
)
def test_file_system_survives_deletion_outside_dev(
    template: TemplateOf, environment: str, policy: str
) -> None:
    assert _only(template, environment, "AWS::EFS::FileSystem")["DeletionPolicy"] == policy


def test_data_stack_has_termination_protection_where_configured(stages: dict) -> None:
    assert stages["prod"].data.termination_protection is True
    assert stages["dev"].data.termination_protection is False


@pytest.mark.parametrize(
    ("instance_type", "connections"),
    [("t4g.micro", 85), ("t4g.medium", 341), ("m7g.large", 682), ("r6g.large", 1365), ("m7g.4xlarge", 5461)],
)
def test_max_connections_estimate_follows_rds_formula(instance_type: str, connections: int) -> None:
    assert estimated_max_connections(instance_type) == connections
