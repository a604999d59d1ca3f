"""The bucket that receives access logs: S3 server access logs, ALB and CloudFront standard logs."""

from aws_cdk import Duration
from aws_cdk import aws_s3 as s3
from constructs import Construct

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
