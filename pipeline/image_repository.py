"""The ECR repository of Moodle images, in the tooling account, pulled by the environments' accounts."""

from collections.abc import Iterable, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct

from moodle_infra.config import PipelineConfig
from moodle_infra.moodle_image import EcrImage
from pipeline.promotion_tags import promotion_prefix

RETAINED_IMAGE_COUNT = 50
"""Images no environment was promoted to (built, or stopped by the vulnerability gate): the newest 50."""

PROMOTED_IMAGE_CEILING = 9999
"""A lifecycle rule must expire something; the promoted-image rules exist to *select* those images, which
ECR then lets no lower-priority rule expire. ``release`` leaves a handful per environment, far below."""

UNTAGGED_IMAGE_DAYS = 7
"""Untagged manifests (left over by interrupted pushes) are never deployed."""

PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


def lifecycle_rules(environments: Sequence[str]) -> list[ecr.LifecycleRule]:
    """Never expire an image an environment's task definitions may still name.

    ECR evaluates rules by priority; an image that matches the tag selection of a higher-priority rule
    cannot be expired by a lower-priority one, and count rules expire the oldest by push time
    (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html). A plain "keep the
    last N" therefore expires prod's image after N image-changing commits that stop before prod, and
    sorting by push time cannot tell which image prod runs. So the pipeline tags each image it deploys
    with ``deployed-<environment>-...`` (pipeline/promotion_tags.py, which also says why the tags it
    keeps cover every image a task definition or a rollback may name); one rule per environment selects
    those images first, with a count far above what is ever tagged. Only then do the untagged and the
    count rules see what no environment runs."""
    promoted = [
        ecr.LifecycleRule(
            rule_priority=priority,
            description=f"Images promoted to {environment}: never expired (release removes old tags)",
            tag_status=ecr.TagStatus.TAGGED,
            tag_prefix_list=[promotion_prefix(environment)],
            max_image_count=PROMOTED_IMAGE_CEILING,
        )
        for priority, environment in enumerate(environments, start=1)
    ]
    return [
        *promoted,
        ecr.LifecycleRule(
            rule_priority=len(promoted) + 1,
            description="Drop untagged manifests",
            tag_status=ecr.TagStatus.UNTAGGED,
            max_image_age=Duration.days(UNTAGGED_IMAGE_DAYS),
        ),
        ecr.LifecycleRule(
            rule_priority=len(promoted) + 2,
            description=f"Keep the last {RETAINED_IMAGE_COUNT} images no environment runs",
            tag_status=ecr.TagStatus.ANY,
            max_image_count=RETAINED_IMAGE_COUNT,
        ),
    ]


class ImageRepository(Construct):
    """Immutable tags (a tag is a content hash, so it must always mean the same image), scan on push,
    KMS encryption, retained when the pipeline stack is deleted so that running services keep working.

    Its name is configuration, not generated: the environments' accounts pull it by name. So after the
    pipeline stack is deleted, creating it again needs the old repository deleted (or another name):
    docs/COMPLIANCE.md, "Clean-up after a teardown"."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PipelineConfig,
        pulling_accounts: Iterable[str],
        environments: Sequence[str],
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
            lifecycle_rules=lifecycle_rules(environments),
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
