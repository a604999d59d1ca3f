"""A resource kept when its stack is deleted carries no name that a re-created stack asks for again."""

from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import DeployRule, Json, StackTemplate, Violation, literal

NAME_PROPERTIES = {
    "AWS::Backup::BackupVault": "BackupVaultName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::ElastiCache::ReplicationGroup": "ReplicationGroupId",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBParameterGroup": "DBParameterGroupName",
    "AWS::RDS::DBSubnetGroup": "DBSubnetGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SNS::Topic": "TopicName",
}
"""The property that gives each resource type its unique physical name (EFS file systems have none)."""

RETAINED = ("Retain", "RetainExceptOnCreate")
"""Snapshot deletes the resource itself (RDS, ElastiCache) and names its final snapshot uniquely."""

DOCUMENTED_CLEAN_UP = {
    ("AWS::ECR::Repository", "RetainExceptOnCreate"): (
        "the image repository's name is configuration (pipeline.image_repository_name) because every "
        "environment account pulls it by name; a failed first create removes it, and after deleting "
        "the pipeline stack the repository is deleted by hand (docs/COMPLIANCE.md, 'Clean-up after a "
        "teardown') or the name changed"
    ),
}
"""(type, deletion policy) -> why a fixed name is kept and what the clean-up is."""

CDK_OWN_FIXED_NAMES = {
    "AWS::S3::Bucket": "CrossRegionCodePipelineReplicationBucket",
}
"""Resources CDK Pipelines creates with a name derived from the pipeline (its cross-region support
stack's replication bucket); the clean-up is documented in docs/COMPLIANCE.md."""


def is_fixed(value: Json) -> bool:
    """A name made only of literals and the stack's account, region and partition is the same on every
    create; one that includes AWS::StackId (or any other reference) is new on each."""
    return value is not None and literal(value) is not None


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """A resource with DeletionPolicy Retain outlives a rolled-back first create or a deleted stack, and
    CloudFormation never adopts an existing resource on create: the next create of a resource with the
    same physical name fails with "already exists" until someone deletes the old one by hand
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html,
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html).
    RetainExceptOnCreate removes the resource when its first create fails, which covers retries but
    not teardowns; such exceptions are listed, with their clean-up, in DOCUMENTED_CLEAN_UP."""
    for template in templates:
        for logical_id, resource in template.resources(*NAME_PROPERTIES):
            policy = resource.get("DeletionPolicy", "Delete")
            if policy not in RETAINED:
                continue
            name = resource.get("Properties", {}).get(NAME_PROPERTIES[resource["Type"]])
            if not is_fixed(name):
                continue
            if (resource["Type"], policy) in DOCUMENTED_CLEAN_UP:
                continue
            if logical_id.startswith(CDK_OWN_FIXED_NAMES.get(resource["Type"], "\0")):
                continue
            yield Violation(
                template.path,
                logical_id,
                f"{resource['Type']} named {literal(name)!r} with DeletionPolicy {policy}: a retry or "
                "re-create after a teardown fails with 'already exists'",
            )


RULE = DeployRule("retained-names", "Retained resources have names a re-create does not collide with", check)
