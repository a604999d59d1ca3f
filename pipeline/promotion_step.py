"""The steps around each environment's deploy that keep its images in ECR (pipeline/promotion_tags.py):
``MarkImage-<env>`` before it, ``ReleaseImages-<env>`` after it succeeded."""

from dataclasses import dataclass

from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines

from pipeline.python_step import python_step

MARK_ACTIONS = ("ecr:BatchGetImage", "ecr:PutImage")
RELEASE_ACTIONS = ("ecr:ListImages", "ecr:BatchDeleteImage")


@dataclass(frozen=True)
class PromotionSteps:
    mark: pipelines.CodeBuildStep
    release: pipelines.CodeBuildStep


def promotion_steps(
    *, source: pipelines.IFileSetProducer, repository: ecr.IRepository, environment: str, image_tag: str
) -> PromotionSteps:
    """Both act on the Moodle image repository only."""
    arguments = f"--repository {repository.repository_name} --environment {environment}"
    mark = python_step(
        f"MarkImage-{environment}",
        source=source,
        commands=[f"python3 -m pipeline.promotion_tags mark {arguments} --image-tag {image_tag}"],
        policy_statements=[
            iam.PolicyStatement(actions=list(MARK_ACTIONS), resources=[repository.repository_arn])
        ],
    )
    release = python_step(
        f"ReleaseImages-{environment}",
        source=source,
        commands=[f"python3 -m pipeline.promotion_tags release {arguments}"],
        policy_statements=[
            iam.PolicyStatement(actions=list(RELEASE_ACTIONS), resources=[repository.repository_arn])
        ],
    )
    return PromotionSteps(mark=mark, release=release)
