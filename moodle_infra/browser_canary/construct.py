"""The browser journey (journey/) through CloudFront every few minutes, as a CloudWatch Synthetics canary
with an alarm, an artifacts bucket, and a role that lets the pipeline read its first run after a deploy."""

import json
import shutil
from pathlib import Path

import jsii
from aws_cdk import (
    AssetHashType,
    BundlingOptions,
    CfnOutput,
    DockerImage,
    Duration,
    ILocalBundling,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_synthetics as synthetics
from constructs import Construct

from compliance.acknowledgments import acknowledge, wildcard_resource_finding
from moodle_infra.config import CanaryConfig, canary_timeout_seconds
from moodle_infra.managed_policy_role import ManagedPolicyRole

RUNTIME = synthetics.Runtime("syn-python-selenium-14.0", synthetics.RuntimeFamily.PYTHON)
"""The newest Python Selenium runtime (Python 3.12, Selenium 4.32.0 as pinned here, Chromium 153):
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Library_python_selenium.html;
compliance/deploy_rules/lambda_runtimes.py keeps it supported."""

HANDLER = "journey_canary.handler"
REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path(__file__).resolve().parent
BUNDLED = {
    "journey": REPO_ROOT / "journey",
    "smoke": REPO_ROOT / "smoke",
}
"""Packages of the code bundle besides python/journey_canary.py (smoke for its report module)."""

ARTIFACTS_PREFIX = "runs"


def canary_log_groups(scope: Construct) -> str:
    """Synthetics names the canary's Lambda ``cwsyn-<canary>-<id>``; its log group follows."""
    stack = Stack.of(scope)
    return f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:/aws/lambda/cwsyn-*"


RUNNER_ACTIONS = ["synthetics:GetCanary", "synthetics:GetCanaryRuns"]
"""Reading runs only: the pipeline waits for the canary's next scheduled run after a deploy."""


def canary_name(environment: str) -> str:
    return f"moodle-{environment}-journey"


def runner_role_name(environment: str) -> str:
    """Fixed, so the pipeline's role may assume it by ARN without a cross-stack reference."""
    return f"moodle-{environment}-journey-runner"


@jsii.implements(ILocalBundling)
class _CopyJourney:
    """Lays out the code bundle as Synthetics wants it (python/...), here, with no container."""

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:
        python = Path(output_dir) / "python"
        shutil.copytree(SOURCE / "python", python, dirs_exist_ok=True)
        for name, package in BUNDLED.items():
            shutil.copytree(package, python / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        return True


def canary_code() -> synthetics.Code:
    return synthetics.Code.from_asset(
        str(SOURCE),
        bundling=BundlingOptions(image=DockerImage.from_registry("unused"), local=_CopyJourney()),
        asset_hash_type=AssetHashType.OUTPUT,
    )


class BrowserCanary(Construct):
    """Runs every ``every_minutes`` from the environment's region against the site's public URL (no VPC:
    it goes through CloudFront and the WAF like a student); failed runs notify the environment's topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: CanaryConfig,
        environment_name: str,
        site_url: str,
        password: secretsmanager.ISecret,
        topic: sns.ITopic,
        access_logs: s3.IBucket,
        pipeline_account: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        retention = Duration.days(config.artifact_retention_days)
        self.bucket = s3.Bucket(
            self,
            "Artifacts",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"canary-artifacts/{environment_name}/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireCanaryRuns",
                    expiration=retention,
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = self._execution_role()
        self.canary = synthetics.Canary(
            self,
            "Canary",
            role=self.role,
            canary_name=canary_name(environment_name),
            runtime=RUNTIME,
            test=synthetics.Test.custom(code=canary_code(), handler=HANDLER),
            schedule=synthetics.Schedule.rate(Duration.minutes(config.every_minutes)),
            timeout=Duration.seconds(canary_timeout_seconds(config)),
            environment_variables={
                "JOURNEY_URL": site_url,
                "JOURNEY_USERNAME": config.username,
                "JOURNEY_COURSE": config.course_short_name,
                "JOURNEY_SECRET_ARN": password.secret_arn,
                "JOURNEY_BUDGETS": json.dumps(vars(config.budgets_seconds), sort_keys=True),
            },
            artifacts_bucket_location=synthetics.ArtifactsBucketLocation(
                bucket=self.bucket, prefix=ARTIFACTS_PREFIX
            ),
            success_retention_period=retention,
            failure_retention_period=retention,
            start_after_creation=True,
            provisioned_resource_cleanup=True,
        )
        password.grant_read(self.role)
        alarm = cloudwatch.Alarm(
            self,
            "FailedRuns",
            metric=self.canary.metric_success_percent(
                period=Duration.minutes(config.every_minutes), statistic="Minimum"
            ),
            threshold=100,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=config.alarm_after_failed_runs,
            datapoints_to_alarm=config.alarm_after_failed_runs,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            alarm_description=(
                f"The browser journey failed {config.alarm_after_failed_runs} runs in a row, or did not "
                "run: students cannot log in, or a page, script or call of Moodle is broken "
                f"(screenshots: CloudWatch > Synthetics > {canary_name(environment_name)})"
            ),
        )
        alarm.add_alarm_action(actions.SnsAction(topic))
        alarm.add_ok_action(actions.SnsAction(topic))
        self.alarm = alarm
        self.runner = self._runner(environment_name, pipeline_account)
        self._acknowledge()
        self.name_output = CfnOutput(
            Stack.of(self), "CanaryName", value=self.canary.canary_name, description="Browser journey canary"
        )

    def _execution_role(self) -> iam.Role:
        """What every run needs (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_CanaryPermissions.html),
        in a managed policy: its artifacts, its metrics and its Lambda's logs."""
        role = ManagedPolicyRole(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Runs the browser journey canary",
        )
        for statement in (
            iam.PolicyStatement(
                actions=["s3:PutObject"], resources=[self.bucket.arn_for_objects(f"{ARTIFACTS_PREFIX}/*")]
            ),
            iam.PolicyStatement(actions=["s3:GetBucketLocation"], resources=[self.bucket.bucket_arn]),
            iam.PolicyStatement(actions=["s3:ListAllMyBuckets"], resources=["*"]),
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}},
            ),
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[canary_log_groups(self)],
            ),
        ):
            role.add_to_policy(statement)
        return role

    def _runner(self, environment_name: str, pipeline_account: str | None) -> iam.Role | None:
        """What the pipeline's post-deploy step assumes to read the canary's runs (journey/canary_run.py):
        it waits for the first run after the deploy; nothing else."""
        if pipeline_account is None:
            return None
        role = ManagedPolicyRole(
            self,
            "Runner",
            role_name=runner_role_name(environment_name),
            assumed_by=iam.AccountPrincipal(pipeline_account),
            description="The pipeline reads the browser canary's first run after each deploy",
            max_session_duration=Duration.hours(1),
        )
        role.add_to_policy(iam.PolicyStatement(actions=RUNNER_ACTIONS, resources=[self.canary.canary_arn]))
        return role

    def _acknowledge(self) -> None:
        acknowledge(
            self.bucket,
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
            "Screenshots and logs of a login page and a monitoring course, kept a few days; SSE-S3 is what "
            "Synthetics writes without a key policy for its execution role",
        )
        acknowledge(
            self.bucket,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "Canary artifacts expire after the configured days; a copy in another region protects nothing "
            "that the next run does not recreate",
        )
        findings = {
            "AwsSolutions-IAM5[Resource::*]": "s3:ListAllMyBuckets and cloudwatch:PutMetricData (bound to "
            "the CloudWatchSynthetics namespace) have no resource-level permissions; Synthetics needs both",
            wildcard_resource_finding(self, self.bucket.arn_for_objects(f"{ARTIFACTS_PREFIX}/*")): "Each run "
            "writes its screenshots, log and HAR file under a new key of the canary's own artifacts prefix",
            wildcard_resource_finding(self, canary_log_groups(self)): "Synthetics names the canary's Lambda "
            "function, and so its log group, cwsyn-<canary name>-<generated id> when it creates it",
        }
        for finding, reason in findings.items():
            acknowledge(self.role, finding, reason)
