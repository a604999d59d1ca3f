"""The ECR repository of Moodle images, in the tooling account, pulled by the environments' accounts."""

from collections.abc import Iterable

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from moodle_infra.config import PipelineConfig
from moodle_infra.moodle_image import EcrImage

RETAINED_IMAGE_COUNT = 50
"""Generous on purpose: prod may run an image many dev builds old, and ECS must still be able to pull
it to start or replace a task until prod is promoted to a newer one."""

UNTAGGED_IMAGE_DAYS = 7
"""Untagged manifests (left over by interrupted pushes) are never deployed."""

PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


class ImageRepository(Construct):
    """Immutable tags (a tag is a content hash, so it must always mean the same image), scan on push,
    KMS encryption, retained when the pipeline stack is deleted so that running services keep working.

    Its name is configuration, not generated: the environments' accounts pull it by name. So after the
    pipeline stack is deleted, creating it again needs the old repository deleted (or another name):
    docs/COMPLIANCE.md, "Clean-up after a teardown"."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: PipelineConfig, pulling_accounts: Iterable[str]
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=config.image_repository_name,
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            # Kept when the pipeline stack is deleted (running services pull from it), but removed when the
            # stack's first create fails, so that a retry can create it under its configured name again.
            removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description="Drop untagged manifests",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=Duration.days(UNTAGGED_IMAGE_DAYS),
                ),
                ecr.LifecycleRule(
                    description=f"Keep the last {RETAINED_IMAGE_COUNT} images",
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=RETAINED_IMAGE_COUNT,
                ),
            ],
        )
        self.repository.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PullFromEnvironmentAccounts",
                principals=[iam.AccountPrincipal(account) for account in sorted(set(pulling_accounts))],
                actions=list(PULL_ACTIONS),
            )
        )

    def image(self, tag: str) -> EcrImage:
        """The image as a stage in another account refers to it: plain strings, no cross-stack tokens."""
        name = self.config.image_repository_name
        return EcrImage(
            repository_arn=f"arn:aws:ecr:{self.config.region}:{self.config.account}:repository/{name}",
            repository_name=name,
            tag=tag,
        )
