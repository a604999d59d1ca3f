"""The bucket that receives access logs: S3 server access logs, ALB and CloudFront standard logs."""

from aws_cdk import Duration, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from compliance.acknowledgments import acknowledge, skip_checkov
from compliance.cdk_internals import AUTO_DELETE_PROVIDER, skip_checkov_on_provider
from moodle_infra.config import EnvironmentConfig
from moodle_infra.removal import removal_policy


class AccessLogs(Construct):
    """SSE-S3 encrypted (ALB log delivery cannot write to KMS-encrypted buckets) with ACLs enabled only
    because CloudFront standard logging still delivers through the bucket ACL."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        destroy = config.removal_policy == "destroy"
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAccessLogs",
                    expiration=Duration.days(max(config.log_retention_days, 1)),
                    noncurrent_version_expiration=Duration.days(7),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=removal_policy(config.removal_policy, supports_snapshot=False),
            auto_delete_objects=destroy,
        )
        acknowledge(
            self.bucket,
            "NIST.800.53.R5-S3DefaultEncryptionKMS",
            "ALB access log delivery writes only to buckets encrypted with S3-managed keys (SSE-S3), "
            "so this bucket cannot use a KMS key",
        )
        acknowledge(
            self.bucket,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "Access logs are kept for the environment's log retention only, for troubleshooting and "
            "traffic analysis; a cross-region copy would double their cost and protect nothing more",
        )
        skip_checkov(
            self.bucket,
            "CKV_AWS_18",
            "This bucket is where the environment's access logs go; logging its own access into itself "
            "would log every log delivery, without end",
        )
        if destroy:
            skip_checkov_on_provider(Stack.of(self), AUTO_DELETE_PROVIDER)
