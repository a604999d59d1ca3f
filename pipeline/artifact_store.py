"""The pipeline's artifact bucket, versioned and access-logged, in place of the one CDK would create.

Its artifacts are the synthesized templates and assets that the pipeline deploys to every environment,
prod included: versions keep any overwritten or deleted artifact, and S3 server access logs record
every request for them (CloudTrail records object-level requests only as data events, which this app
does not turn on in the tooling account). Otherwise it is what CDK Pipelines creates: a generated name, a
rotated KMS key that the environments' deploy roles are granted, TLS only, no public access.
"""

from aws_cdk import Duration, PhysicalName, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from compliance.acknowledgments import acknowledge, skip_checkov

ACCESS_LOG_DAYS = 365
"""As long as prod keeps its own logs (``log_retention_days`` of prod in cdk.json)."""

NONCURRENT_VERSION_DAYS = 30
"""How long a deleted or overwritten artifact or log can be recovered: long enough to look into a
deployment of the last few weeks."""


class ArtifactStore(Construct):
    """``bucket`` goes to ``pipelines.CodePipeline(artifact_bucket=...)``; ``access_logs`` receives its
    server access logs."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAccessLogs",
                    expiration=Duration.days(ACCESS_LOG_DAYS),
                    noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        _acknowledge_access_log_bucket(self.access_logs)

        # Like the key CDK Pipelines creates: destroyed with the stack, since it protects only artifacts.
        key = kms.Key(
            self,
            "Key",
            description="Encrypts the Moodle pipeline's artifacts",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=PhysicalName.GENERATE_IF_NEEDED,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireReplacedArtifacts",
                    noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.bucket,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "Artifacts are rebuilt from git by the next pipeline run, and the pipeline runs in this one "
            "region: a replica in another region would protect nothing",
        )


def _acknowledge_access_log_bucket(bucket: s3.Bucket) -> None:
    skip_checkov(
        bucket,
        "CKV_AWS_18",
        "This bucket receives the artifact bucket's access logs; logging its own access into itself would "
        "log every log delivery, without end",
    )
    acknowledge(
        bucket,
        "NIST.800.53.R5-S3DefaultEncryptionKMS",
        "S3 server access log delivery writes only to buckets encrypted with S3-managed keys (SSE-S3), "
        "so this bucket cannot use a KMS key",
    )
    acknowledge(
        bucket,
        "NIST.800.53.R5-S3BucketReplicationEnabled",
        "Access logs of the pipeline's artifacts, kept a year for review in the pipeline's one region; "
        "a cross-region copy would double their cost and protect nothing more",
    )
