"""PipelineStack: the self-mutating CDK pipeline in the tooling account, and what it needs there."""

import json
from collections.abc import Mapping
from pathlib import Path

from aws_cdk import CfnOutput, Environment, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from constructs import Construct

from moodle_infra.config import EnvironmentConfig, ProjectConfig
from moodle_infra.moodle_image import IMAGE_DIRECTORY
from pipeline.acknowledgments import acknowledge_pipeline_findings
from pipeline.approval_step import promotion_approval
from pipeline.artifact_store import ArtifactStore
from pipeline.image_build_step import image_build_step
from pipeline.image_repository import ImageRepository
from pipeline.image_tag import image_tag
from pipeline.notifications import PipelineNotifications
from pipeline.smoke_test_step import smoke_test_step
from pipeline.synth_step import synth_step
from stages.moodle_stage import MoodleStage

PACKAGE_JSON = Path(__file__).resolve().parent.parent / "package.json"


def pinned_cdk_cli_version() -> str:
    """The CLI that self-mutation runs is the one ``npm ci`` installs for synthesis: no drift."""
    return str(json.loads(PACKAGE_JSON.read_text())["devDependencies"]["aws-cdk"])


class PipelineStack(Stack):
    """Source -> Build (tests, synth, compliance) -> UpdatePipeline -> Assets -> dev (image build
    first, smoke tests last) -> approval -> staging -> approval -> prod, each with smoke tests.

    The stack's account and region are the tooling account's, from ``moodle.pipeline``.
    ``image_directory`` is what the image tag is hashed from (tests point it at a copy);
    ``image_build_args`` (the Moodle release: MOODLE_VERSION, MOODLE_SHA256, MOODLE_URL) go to the
    image build and into the tag, so that moving to another release rebuilds and rolls out.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ProjectConfig,
        image_directory: Path = IMAGE_DIRECTORY,
        image_build_args: Mapping[str, str] | None = None,
    ) -> None:
        tooling = config.pipeline
        super().__init__(scope, construct_id, env=Environment(account=tooling.account, region=tooling.region))
        source = pipelines.CodePipelineSource.connection(
            tooling.repository, tooling.branch, connection_arn=tooling.connection_arn
        )
        artifacts = ArtifactStore(self, "Artifacts")
        pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=artifacts.bucket,
            synth=synth_step(source=source),
            self_mutation=True,
            cross_account_keys=True,
            enable_key_rotation=True,
            publish_assets_in_parallel=False,
            cli_version=pinned_cdk_cli_version(),
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0
                )
            ),
        )
        environments = list(config.environments.values())
        images = ImageRepository(
            self,
            "MoodleImages",
            config=tooling,
            pulling_accounts=[environment.account for environment in environments],
        )
        build_args = dict(image_build_args or {})
        image = images.image(image_tag(image_directory, build_args=build_args))

        image_build = image_build_step(
            source=source, repository=images.repository, tag=image.tag, build_args=build_args
        )
        smoke_tests: list[pipelines.CodeBuildStep] = []
        tested: EnvironmentConfig | None = None
        for environment in environments:
            stage = MoodleStage(self, environment.name.title(), config=environment, image=image)
            smoke_test = smoke_test_step(
                self,
                environment=environment.name,
                stage=stage,
                source=source,
                expected_release=config.moodle_release.version,
            )
            smoke_tests.append(smoke_test)
            before_deploy = (
                image_build if tested is None else promotion_approval(tested=tested, target=environment)
            )
            pipeline.add_stage(stage, pre=[before_deploy], post=[smoke_test])
            tested = environment

        pipeline.build_pipeline()
        notifications = PipelineNotifications(
            self, "Notifications", pipeline=pipeline.pipeline, email=tooling.notification_email
        )
        acknowledge_pipeline_findings(pipeline=pipeline, image_build=image_build, smoke_tests=smoke_tests)

        CfnOutput(self, "PipelineName", value=pipeline.pipeline.pipeline_name, description="CodePipeline")
        CfnOutput(
            self, "ImageRepositoryUri", value=images.repository.repository_uri, description="Moodle images"
        )
        CfnOutput(
            self,
            "NotificationTopicArn",
            value=notifications.topic.topic_arn,
            description="Failures, approvals",
        )
