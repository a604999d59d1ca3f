"""The image build: ``buildspec-image.yml`` in a privileged CodeBuild project that may push to the
Moodle image repository and nowhere else."""

from collections.abc import Mapping
from pathlib import Path

import yaml
from aws_cdk import Duration, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam

from pipeline.synth_step import IMAGE_PINS_NAME

IMAGE_BUILDSPEC = Path(__file__).resolve().parent.parent / "buildspec-image.yml"

PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
"""Push, plus the reads that ``docker push`` and the skip-if-already-pushed check make."""

IMAGE_BUILD_ARGS = frozenset(
    {
        "MOODLE_VERSION",
        "MOODLE_SHA256",
        "MOODLE_URL",
        "MOODLE_PLUGINS",
        "MOODLE_LANGUAGE_PACKS",
    }
)
"""The variables ``buildspec-image.yml`` hands to ``docker build`` as build arguments; any other name
would be silently ignored, so it is refused."""

IMAGE_BUILD_TIMEOUT = Duration.minutes(45)
ASSEMBLY_INPUT = "assembly"
"""Where the synth step's cloud assembly is, beside the source: its ``image-pins.json`` holds the Debian
pins the tag was computed from (pipeline/synth_step.py), read by ``buildspec-image.yml``."""


def image_build_step(
    *,
    source: pipelines.IFileSetProducer,
    assembly: pipelines.IFileSetProducer,
    repository: ecr.IRepository,
    tag: str,
    build_args: Mapping[str, str],
) -> pipelines.CodeBuildStep:
    """The buildspec is merged in as an object (CodeBuild cannot merge a buildspec file), so the
    project's BuildSpec shows exactly what runs; the tag is the synth-time hash of ``image/``, the
    release's ``build_args`` and the Debian pins. The pins' BASE_IMAGE and DEBIAN_SNAPSHOT come from the
    synth step's ``assembly``, not from this project's settings: a new snapshot day that moves no package
    then leaves the pipeline itself unchanged (no self-mutation, no restarted execution)."""
    unknown = sorted(set(build_args) - IMAGE_BUILD_ARGS)
    if unknown:
        raise ValueError(f"buildspec-image.yml does not pass {unknown} to docker build")
    return pipelines.CodeBuildStep(
        "BuildMoodleImage",
        input=source,
        additional_inputs={ASSEMBLY_INPUT: assembly},
        commands=[],
        partial_build_spec=codebuild.BuildSpec.from_object(yaml.safe_load(IMAGE_BUILDSPEC.read_text())),
        build_environment=codebuild.BuildEnvironment(
            privileged=True, compute_type=codebuild.ComputeType.MEDIUM
        ),
        env={
            "IMAGE_REPOSITORY_URI": repository.repository_uri,
            "IMAGE_TAG": tag,
            "IMAGE_PINS": f"{ASSEMBLY_INPUT}/{IMAGE_PINS_NAME}",
            **build_args,
        },
        timeout=IMAGE_BUILD_TIMEOUT,
        role_policy_statements=[
            iam.PolicyStatement(actions=list(PUSH_ACTIONS), resources=[repository.repository_arn]),
            iam.PolicyStatement(
                sid="RegistryLoginsHaveNoResourceLevelPermissions",
                actions=[
                    "ecr:GetAuthorizationToken",
                    "ecr-public:GetAuthorizationToken",
                    "sts:GetServiceBearerToken",
                ],
                resources=["*"],
            ),
        ],
    )
