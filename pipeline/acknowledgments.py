"""Why each cdk-nag finding and checkov skip on the resources CDK Pipelines generates is acceptable.

CDK Pipelines creates the cross-region replication bucket, one role per action and CodeBuild project,
and gives each role an inline default policy built by CDK's grant methods. The findings below are listed
one by one (cdk-nag matches finding IDs exactly), so any new wildcard still fails synthesis until someone
reads it. The artifact bucket is ours (``artifact_store.py``), acknowledged where it is created.
"""

from collections.abc import Iterable, Mapping

from aws_cdk import ArnFormat, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from compliance.acknowledgments import (
    acknowledge,
    acknowledge_internal,
    skip_checkov,
    skip_checkov_internal,
    wildcard_resource_finding,
)


def _wildcard_actions(*actions: str) -> tuple[str, ...]:
    return tuple(f"AwsSolutions-IAM5[Action::{action}]" for action in actions)


ANY_RESOURCE = "AwsSolutions-IAM5[Resource::*]"
ARTIFACT_READ = _wildcard_actions("s3:GetObject*", "s3:GetBucket*", "s3:List*")
ARTIFACT_WRITE = _wildcard_actions("s3:DeleteObject*", "s3:Abort*")
ARTIFACT_KEY = _wildcard_actions("kms:ReEncrypt*", "kms:GenerateDataKey*")
GRANT_REASON = (
    "CDK grant on the pipeline's own artifact bucket and KMS key: each wildcard spans the variants of one "
    "permission (object versions, tags, multipart uploads), never another resource"
)
ARTIFACT_OBJECTS_REASON = (
    "Objects of the pipeline's own artifact bucket, whose keys CodePipeline generates per run"
)
PROJECT_LOGS_REASON = (
    "The CodeBuild project's own log streams and report groups, which CodeBuild names per build"
)

REPLICA_REASON = (
    "Objects of the pipeline's own replication bucket for actions in another region (the us-east-1 stacks)"
)
INLINE_POLICY_REASON = (
    "CDK Pipelines attaches every generated role's permissions as its inline default policy, scoped to "
    "that one role; it offers no managed-policy alternative"
)
REPLICA_COPIES_REASON = (
    "CDK's cross-region support stack creates this us-east-1 bucket for CodePipeline's copies of the "
    "EdgeSecurity stacks' artifacts; the originals are in the versioned, access-logged artifact bucket"
)
REPLICATION_BUCKET_REASONS = {
    "AwsSolutions-S1": REPLICA_COPIES_REASON,
    "NIST.800.53.R5-S3BucketLoggingEnabled": REPLICA_COPIES_REASON,
    "NIST.800.53.R5-S3BucketVersioningEnabled": REPLICA_COPIES_REASON,
    "NIST.800.53.R5-S3BucketReplicationEnabled": "Artifacts are rebuilt from git by the next run: a replica "
    "would protect nothing",
}
REPLICATION_BUCKET_CHECKOV_SKIPS = {
    "CKV_AWS_18": REPLICA_COPIES_REASON,
    "CKV_AWS_21": REPLICA_COPIES_REASON,
}

ASSET_PROJECTS_REASON = "Log and report groups of the asset publishing projects, created per asset type"

REPLICA_KEYS_REASON = (
    "KMS use of the cross-region replication buckets' keys, which CodePipeline references by alias from "
    "another region and so cannot name by ARN"
)
ASSET_BUILDS_REASON = (
    "CDK Pipelines lets the asset role start and watch the asset projects it creates per asset type, "
    "which it cannot name in advance"
)
REGISTRY_LOGIN_REASON = (
    "Registry logins (ecr and ecr-public GetAuthorizationToken, sts:GetServiceBearerToken) have no "
    "resource-level permissions; docker needs them to pull the base image and push the Moodle image"
)

INSPECTOR_FINDINGS_REASON = (
    "inspector2:ListFindings, through which ECR returns an image's enhanced scan findings, has no "
    "resource-level permissions; the gate reads only its own repository's images"
)

PERMISSIONS_CHECK = "PipelinesSecurityCheck"
"""What ``ConfirmPermissionsBroadening`` creates below the pipeline, once for all its steps: a CodeBuild
project that runs ``cdk diff --security-only`` and a Lambda that approves when nothing broadens."""
AUTO_APPROVE_MANAGED_POLICY = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
)
AUTO_APPROVE_MANAGED_POLICY_REASON = (
    "CDK Pipelines creates its auto-approve function with AWS's basic execution policy, which lets it "
    "write its own logs and nothing else"
)
AUTO_APPROVE_ANY_PIPELINE_REASON = (
    "codepipeline:GetPipelineState and PutApprovalResult, limited by a condition to pipelines tagged "
    "SECURITY_CHECK=ALLOW_APPROVE, which CDK Pipelines sets on this pipeline only"
)
AUTO_APPROVE_FUNCTION_REASONS = {
    "LambdaConcurrency": "Invoked once per deployment by the permissions check; reserving concurrency would "
    "take capacity from the account and fails on new accounts",
    "LambdaDLQ": "Invoked asynchronously once per deployment; when it fails the approval simply waits for a "
    "person, so a dead-letter queue would hold nothing to act on",
    "LambdaInsideVPC": "Calls the CodePipeline API only; the tooling account has no VPC and none would "
    "isolate anything",
}
AUTO_APPROVE_CHECKOV_SKIPS = {
    "CKV_AWS_115": "LambdaConcurrency",
    "CKV_AWS_116": "LambdaDLQ",
    "CKV_AWS_117": "LambdaInsideVPC",
}
"""checkov's checks for the same three things: check -> the NIST rule whose reason applies."""
AUTO_APPROVE_LOGS_REASON = (
    "CDK Pipelines creates this log group for its auto-approve function without a key option; it holds "
    "pipeline, stage and action names only"
)
DIFF_PROJECT_REASONS = {
    ANY_RESOURCE: "sts:AssumeRole limited by a condition to the CDK bootstrap deploy roles "
    "(aws-cdk:bootstrap-role=deploy), through which cdk diff reads the deployed stacks",
}
AUTO_APPROVE_INVOKE_REASON = "Invokes the auto-approve function's versions only"


def acknowledge_pipeline_findings(
    *,
    pipeline: pipelines.CodePipeline,
    image_build: pipelines.CodeBuildStep,
    vulnerability_gate: pipelines.CodeBuildStep,
    smoke_tests: Iterable[pipelines.CodeBuildStep],
    ecr_steps: Iterable[pipelines.CodeBuildStep],
) -> None:
    """Call after ``build_pipeline()``: the roles, projects and support stacks exist only then."""
    stack = Stack.of(pipeline)
    code_pipeline = pipeline.pipeline
    artifact_objects = wildcard_resource_finding(stack, code_pipeline.artifact_bucket.arn_for_objects("*"))
    read_artifacts = {
        **dict.fromkeys((*ARTIFACT_READ, *ARTIFACT_KEY), GRANT_REASON),
        artifact_objects: ARTIFACT_OBJECTS_REASON,
    }
    write_artifacts = {**read_artifacts, **dict.fromkeys(ARTIFACT_WRITE, GRANT_REASON)}

    for policy in _default_policies(pipeline):
        acknowledge(policy, "NIST.800.53.R5-IAMNoInlinePolicy", INLINE_POLICY_REASON)

    support_buckets = [support.replication_bucket for support in code_pipeline.cross_region_support.values()]
    for bucket in support_buckets:
        _acknowledge_replication_bucket(bucket)
    _acknowledge_policy(
        code_pipeline.role.node.find_child("DefaultPolicy"),
        {
            **write_artifacts,
            ANY_RESOURCE: REPLICA_KEYS_REASON,
            **{
                wildcard_resource_finding(stack, bucket.arn_for_objects("*")): REPLICA_REASON
                for bucket in support_buckets
            },
        },
    )

    skip_checkov(code_pipeline.role.node.find_child("DefaultPolicy"), "CKV_AWS_111", REPLICA_KEYS_REASON)

    (source_stage, *_) = code_pipeline.stages
    for action in source_stage.actions:
        role_path = f"Source/{action.action_properties.action_name}/CodePipelineActionRole/DefaultPolicy"
        for finding, reason in write_artifacts.items():
            acknowledge_internal(code_pipeline, role_path, finding, reason)

    asset_publishing = {
        **dict.fromkeys(ARTIFACT_READ, GRANT_REASON),
        artifact_objects: ARTIFACT_OBJECTS_REASON,
        ANY_RESOURCE: ASSET_BUILDS_REASON,
        **dict.fromkeys(_logs_and_reports(stack, "*", "*"), ASSET_PROJECTS_REASON),
    }
    for finding, reason in asset_publishing.items():
        acknowledge_internal(pipeline, "Assets/FileRole/DefaultPolicy", finding, reason)
    skip_checkov_internal(pipeline, "Assets/FileRole/DefaultPolicy", "CKV_AWS_111", ASSET_BUILDS_REASON)

    _acknowledge_project(pipeline.synth_project, write_artifacts)
    _acknowledge_project(
        pipeline.self_mutation_project,
        {
            **read_artifacts,
            ANY_RESOURCE: "cloudformation:DescribeStacks and s3:ListBucket: the CDK CLI finds the bootstrap "
            "stacks and buckets by name while the pipeline updates itself",
            wildcard_resource_finding(stack, f"arn:*:iam::{stack.account}:role/*"): "Assumes only the CDK "
            "bootstrap roles, by a condition on their aws-cdk:bootstrap-role tag",
        },
    )
    _acknowledge_project(image_build.project, {**read_artifacts, ANY_RESOURCE: REGISTRY_LOGIN_REASON})
    skip_checkov(_role_policy(image_build.project), "CKV_AWS_107", REGISTRY_LOGIN_REASON)
    _acknowledge_project(
        vulnerability_gate.project, {**read_artifacts, ANY_RESOURCE: INSPECTOR_FINDINGS_REASON}
    )
    for step in (*smoke_tests, *ecr_steps):
        _acknowledge_project(step.project, read_artifacts)
    _acknowledge_permissions_check(pipeline, read_artifacts)


def _acknowledge_permissions_check(
    pipeline: pipelines.CodePipeline, read_artifacts: Mapping[str, str]
) -> None:
    check = pipeline.node.try_find_child(PERMISSIONS_CHECK)
    if check is None:
        raise ValueError(
            f"{pipeline.node.path} has no {PERMISSIONS_CHECK}: no ConfirmPermissionsBroadening step"
        )
    function = check.node.find_child("CDKPipelinesAutoApprove")
    project = check.node.find_child("CDKSecurityCheck")
    assert isinstance(function, lambda_.Function) and isinstance(project, codebuild.Project)
    stack = Stack.of(pipeline)
    if function.role is None:
        raise ValueError(f"{function.node.path} has no role")
    acknowledge(function.role, AUTO_APPROVE_MANAGED_POLICY, AUTO_APPROVE_MANAGED_POLICY_REASON)
    acknowledge(
        function.role.node.find_child("DefaultPolicy"), ANY_RESOURCE, AUTO_APPROVE_ANY_PIPELINE_REASON
    )
    for rule, reason in AUTO_APPROVE_FUNCTION_REASONS.items():
        acknowledge(function, f"NIST.800.53.R5-{rule}", reason)
    for check_id, rule in AUTO_APPROVE_CHECKOV_SKIPS.items():
        skip_checkov(function, check_id, AUTO_APPROVE_FUNCTION_REASONS[rule])
    # Created with the feature flag @aws-cdk/aws-lambda:useCdkManagedLogGroup (set in cdk.json).
    if (log_group := function.node.try_find_child("LogGroup")) is not None:
        acknowledge(log_group, "NIST.800.53.R5-CloudWatchLogGroupEncrypted", AUTO_APPROVE_LOGS_REASON)
        skip_checkov(log_group, "CKV_AWS_158", AUTO_APPROVE_LOGS_REASON)
    invoke_versions = wildcard_resource_finding(stack, f"{function.function_arn}:*")
    _acknowledge_project(
        project, {**read_artifacts, **DIFF_PROJECT_REASONS, invoke_versions: AUTO_APPROVE_INVOKE_REASON}
    )


def _acknowledge_replication_bucket(bucket: s3.IBucket) -> None:
    for rule_id, reason in REPLICATION_BUCKET_REASONS.items():
        acknowledge(bucket, rule_id, reason)
    for check_id, comment in REPLICATION_BUCKET_CHECKOV_SKIPS.items():
        skip_checkov(bucket, check_id, comment)


def _acknowledge_project(project: codebuild.IProject, findings: Mapping[str, str]) -> None:
    """A CodeBuild project's role: ``findings`` plus the project's own log streams and report groups."""
    own_logs_and_reports = _logs_and_reports(
        Stack.of(project), log_group=f"{project.project_name}:*", report_group=f"{project.project_name}-*"
    )
    _acknowledge_policy(
        _role_policy(project), {**findings, **dict.fromkeys(own_logs_and_reports, PROJECT_LOGS_REASON)}
    )


def _role_policy(project: codebuild.IProject) -> IConstruct:
    """The default policy of the project's role, which CDK Pipelines creates."""
    if project.role is None:
        raise ValueError(f"{project.node.path} has no role")
    return project.role.node.find_child("DefaultPolicy")


def _logs_and_reports(stack: Stack, log_group: str, report_group: str) -> tuple[str, str]:
    """The findings for CodeBuild log groups ``/aws/codebuild/<log_group>`` and report groups
    ``<report_group>``, with the ARNs written as CDK's CodeBuild grants write them."""
    logs = stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"/aws/codebuild/{log_group}",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    reports = stack.format_arn(service="codebuild", resource="report-group", resource_name=report_group)
    return wildcard_resource_finding(stack, logs), wildcard_resource_finding(stack, reports)


def _acknowledge_policy(policy: IConstruct, findings: Mapping[str, str]) -> None:
    for finding, reason in findings.items():
        acknowledge(policy, finding, reason)


def _default_policies(pipeline: pipelines.CodePipeline) -> list[IConstruct]:
    return [construct for construct in pipeline.node.find_all() if construct.node.id == "DefaultPolicy"]
