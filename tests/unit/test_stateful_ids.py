"""Pins the logical IDs of stateful resources.

CloudFormation replaces a resource whose logical ID changes: for these that means an empty database,
lost files or a lost audit trail. A failing test here means a refactor moved a construct; move it
back (or keep the old ID with ``override_logical_id``), never update the expected ID casually.
"""

import pytest

from tests.conftest import TemplateOf

PINNED = [
    ("Data", "AWS::RDS::DBInstance", "DatabaseInstanceAA8A5FDE"),
    ("Data", "AWS::ElastiCache::ReplicationGroup", "CacheReplicationGroupBFE59FF3"),
    ("Data", "AWS::SecretsManager::Secret", "CacheAuthToken04672416"),
    ("Data", "AWS::SecretsManager::Secret", "SiteAdminPasswordCF28F685"),
    ("Data", "AWS::EFS::FileSystem", "FileSystem0A147049"),
    ("Data", "AWS::EFS::AccessPoint", "FileSystemMoodleDataE8B73532"),
    ("Audit", "AWS::S3::Bucket", "AuditTrailBucket1FC98696"),
    ("Audit", "AWS::S3::Bucket", "AccessLogsBucketCD784A59"),
]

DATABASE_SECRET_IDS = {
    "dev": "DevDataDatabaseInstanceSecretA75B3EC33fdaad7efa858a3daf9490cf0a702aeb",
    "prod": "ProdDataDatabaseInstanceSecret2960196F3fdaad7efa858a3daf9490cf0a702aeb",
}
"""CDK derives the generated database secret's ID from the stage and stack names as well."""


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize(("stack", "resource_type", "logical_id"), PINNED)
def test_stateful_logical_id_is_stable(
    template: TemplateOf, environment: str, stack: str, resource_type: str, logical_id: str
) -> None:
    resources = template(environment, stack).find_resources(resource_type)
    assert logical_id in resources, f"{resource_type} {logical_id} is gone; found {sorted(resources)}"


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_database_secret_logical_id_is_stable(template: TemplateOf, environment: str) -> None:
    secrets = template(environment, "Data").find_resources("AWS::SecretsManager::Secret")
    assert DATABASE_SECRET_IDS[environment] in secrets, sorted(secrets)
