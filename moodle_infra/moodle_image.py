"""Where a stage's Moodle container image comes from: a pushed image, or a local build (sandbox)."""

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from constructs import Construct

IMAGE_DIRECTORY = Path(__file__).resolve().parent.parent / "image"


@dataclass(frozen=True, kw_only=True)
class EcrImage:
    """An image the pipeline built and pushed to the tooling account's repository."""

    repository_arn: str
    repository_name: str
    tag: str


@dataclass(frozen=True, kw_only=True)
class LocalImageBuild:
    """Built by ``cdk deploy`` on the caller's machine from ``image/`` (needs Docker only to deploy)."""

    directory: Path = IMAGE_DIRECTORY
    build_args: tuple[tuple[str, str], ...] = ()


MoodleImage = EcrImage | LocalImageBuild


def container_image(scope: Construct, image: MoodleImage) -> ecs.ContainerImage:
    if isinstance(image, EcrImage):
        repository = ecr.Repository.from_repository_attributes(
            scope,
            "MoodleImageRepository",
            repository_arn=image.repository_arn,
            repository_name=image.repository_name,
        )
        return ecs.ContainerImage.from_ecr_repository(repository, image.tag)
    return ecs.ContainerImage.from_asset(str(image.directory), build_args=dict(image.build_args) or None)
