"""CloudTrail: who did what to the environment's account, kept in an encrypted, versioned bucket."""

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from compliance.acknowledgments import acknowledge
from compliance.cdk_internals import AUTO_DELETE_PROVIDER, skip_checkov_on_provider
from moodle_infra.config import EnvironmentConfig
from moodle_infra.keys import logs_key
from moodle_infra.removal import removal_policy
from moodle_infra.retention import log_retention

TRAIL_ARCHIVE_DAYS = 90
"""After this many days trail files move to Glacier; they are deleted after the retention period."""


class Audit(Construct):
    """A multi-region trail with log file validation, KMS encryption and a CloudWatch Logs copy."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, access_logs: s3.IBucket
    ) -> None:
        super().__init__(scope, construct_id)
        retention_days = max(config.log_retention_days, 365)
        trail_name = f"moodle-{config.name}"
        self.key = kms.Key(
            self, "Key", description="Encrypts Moodle's CloudTrail logs", enable_key_rotation=True
        )
        allow_cloudtrail(self.key, trail_name=trail_name)
        self.bucket = s3.Bucket(
            self,
            "TrailBucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="s3/cloudtrail/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ArchiveThenExpire",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER,
                            transition_after=Duration.days(TRAIL_ARCHIVE_DAYS),
                        )
                    ],
                    expiration=Duration.days(retention_days),
                    noncurrent_version_expiration=Duration.days(30),
                )
            ],
            removal_policy=removal_policy(config.removal_policy, supports_snapshot=False),
            auto_delete_objects=config.removal_policy == "destroy",
        )
        self.trail = cloudtrail.Trail(
            self,
            "Trail",
            trail_name=trail_name,
            bucket=self.bucket,
            encryption_key=self.key,
            enable_file_validation=True,
            include_global_service_events=True,
            is_multi_region_trail=True,
            send_to_cloud_watch_logs=True,
            cloud_watch_log_group=logs.LogGroup(
                self,
                "TrailLogs",
                retention=log_retention(config.log_retention_days),
                encryption_key=logs_key(self),
                removal_policy=removal_policy(config.removal_policy, supports_snapshot=False),
            ),
        )
        acknowledge(
            self.trail.node.find_child("LogsRole"),
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "CloudTrail's construct creates this role for itself and writes its one permission (put log "
            "events into the trail's own log group) inline; the role cannot be passed in",
        )
        acknowledge(
            self.bucket,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "The trail bucket is versioned, KMS-encrypted, TLS-only and its log files are validated; a "
            "cross-region copy would double the audit storage of a single-region deployment",
        )
        if config.removal_policy == "destroy":
            skip_checkov_on_provider(Stack.of(self), AUTO_DELETE_PROVIDER)


def allow_cloudtrail(key: kms.Key, *, trail_name: str) -> None:
    """CloudTrail encrypts log files with the key itself, so the key policy must let it (or creating
    the trail fails with InsufficientEncryptionPolicyException): GenerateDataKey* only for this
    account's trail of that name (the encryption context), DescribeKey, both for this trail only
    (aws:SourceArn), as "Configure AWS KMS key policies for CloudTrail" in the CloudTrail guide says.
    The trail's name is fixed so that its ARN is known before it exists (a reference to the trail
    would make the key depend on the trail that depends on it)."""
    stack = Stack.of(key)
    trail_arn = f"arn:{stack.partition}:cloudtrail:{stack.region}:{stack.account}:trail/{trail_name}"
    this_trail = {"StringEquals": {"aws:SourceArn": trail_arn}}
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudTrailEncryptsThisTrailsLogs",
            principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
            actions=["kms:GenerateDataKey*"],
            resources=["*"],
            conditions={
                **this_trail,
                "StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn": (
                        f"arn:{stack.partition}:cloudtrail:*:{stack.account}:trail/{trail_name}"
                    )
                },
            },
        )
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudTrailDescribesTheKey",
            principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
            actions=["kms:DescribeKey"],
            resources=["*"],
            conditions=this_trail,
        )
    )
