"""Cross-account and cross-region pipeline actions can read the artifacts they are given."""

import re
from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import (
    DeployRule,
    Json,
    StackTemplate,
    Violation,
    allows,
    as_list,
    literal,
    referenced_id,
    statements,
)

ACCOUNT_IN_ARN = re.compile(r":iam::(\d{12}):")


def _locate(
    templates: Sequence[StackTemplate], pipeline: StackTemplate, region: str, value: Json, kind: str
) -> tuple[StackTemplate, str] | None:
    """The key (``kind`` AWS::KMS::Key) or bucket (AWS::S3::Bucket) an artifact store names: a reference
    in the pipeline's template, or a literal alias/bucket name in the pipeline account's stack of
    ``region`` (CDK's cross-region support stack)."""
    local = referenced_id(value)
    if local and (pipeline.resource(local) or {}).get("Type") == kind:
        return pipeline, local
    text = literal(value) or ""
    for template in templates:
        if (template.account, template.region) != (pipeline.account, region):
            continue
        if kind == "AWS::KMS::Key":
            for _, alias in template.resources("AWS::KMS::Alias"):
                if text.endswith(str(alias["Properties"].get("AliasName"))):
                    return template, referenced_id(alias["Properties"].get("TargetKeyId")) or ""
        else:
            for logical_id, bucket in template.resources("AWS::S3::Bucket"):
                if bucket.get("Properties", {}).get("BucketName") == text:
                    return template, logical_id
    return None


def _principals(statement: dict[str, Json]) -> list[str]:
    principal = statement.get("Principal") or {}
    return (
        [literal(p) or "" for p in as_list(principal.get("AWS", []))] if isinstance(principal, dict) else []
    )


def _admits(policy: list[dict[str, Json]], action: str, role: str, account: str) -> bool:
    return any(
        allows(statement, action)
        and any(p in (role, f"arn:aws:iam::{account}:root") for p in _principals(statement))
        for statement in policy
    )


def _store_problems(
    templates: Sequence[StackTemplate],
    pipeline: StackTemplate,
    store: dict[str, Json],
    region: str,
    role: str,
    account: str,
) -> Iterator[str]:
    key = store.get("EncryptionKey")
    if not key or key.get("Type") != "KMS" or "alias/aws/" in (literal(key.get("Id")) or ""):
        yield f"the {region} artifact store has no customer managed key, which another account cannot use"
        return
    located_key = _locate(templates, pipeline, region, key.get("Id"), "AWS::KMS::Key")
    key_policy = (
        statements((located_key[0].resource(located_key[1]) or {}).get("Properties", {}).get("KeyPolicy"))
        if located_key
        else []
    )
    if not _admits(key_policy, "kms:Decrypt", role, account):
        yield f"the {region} artifact key does not let {role} kms:Decrypt"
    located_bucket = _locate(templates, pipeline, region, store.get("Location"), "AWS::S3::Bucket")
    bucket_policy = []
    if located_bucket:
        owner, bucket = located_bucket
        bucket_policy = [
            statement
            for _, policy in owner.resources("AWS::S3::BucketPolicy")
            if referenced_id(policy["Properties"].get("Bucket")) == bucket
            for statement in statements(policy["Properties"].get("PolicyDocument"))
        ]
    if not _admits(bucket_policy, "s3:GetObject", role, account):
        yield f"the {region} artifact bucket does not let {role} s3:GetObject"


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """An action that runs with a role of another account reads its input artifacts from the pipeline's
    artifact store in the action's Region: that store needs a customer managed KMS key whose policy, like
    the bucket's, admits that role or account (the AWS managed aws/s3 key cannot be shared)
    (https://docs.aws.amazon.com/codepipeline/latest/userguide/pipelines-create-cross-account.html), and
    every Region that has actions needs an artifact store of its own
    (https://docs.aws.amazon.com/codepipeline/latest/userguide/actions-create-cross-region.html)."""
    for pipeline in templates:
        for logical_id, resource in pipeline.resources("AWS::CodePipeline::Pipeline"):
            properties = resource.get("Properties", {})
            stores = {
                entry.get("Region", pipeline.region): entry.get("ArtifactStore", {})
                for entry in properties.get("ArtifactStores", [])
            }
            if "ArtifactStore" in properties:
                stores[pipeline.region] = properties["ArtifactStore"]
            seen: set[tuple[str, str]] = set()
            for stage in properties.get("Stages", []):
                for action in stage.get("Actions", []):
                    region = action.get("Region", pipeline.region)
                    if region not in stores:
                        yield Violation(
                            pipeline.path,
                            logical_id,
                            f"action {action['Name']} runs in {region}, which has no artifact store",
                        )
                        continue
                    role = literal(action.get("RoleArn")) or ""
                    match = ACCOUNT_IN_ARN.search(role)
                    if not match or match.group(1) == pipeline.account or (role, region) in seen:
                        continue
                    seen.add((role, region))
                    for problem in _store_problems(
                        templates, pipeline, stores[region], region, role, match.group(1)
                    ):
                        yield Violation(pipeline.path, logical_id, f"action {action['Name']}: {problem}")


RULE = DeployRule("pipeline-cross-account", "Cross-account pipeline actions can read their artifacts", check)
