"""PipelineStack: the self-mutating CDK pipeline in the tooling account, and what it needs there."""

import json
import re
from collections.abc import Mapping
from pathlib import Path

from aws_cdk import CfnOutput, Environment, Stack, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from constructs import Construct

from moodle_infra.config import EnvironmentConfig, ProjectConfig
from moodle_infra.image_pins import ImagePins, load_pins
from moodle_infra.moodle_image import IMAGE_DIRECTORY
from pipeline.acknowledgments import acknowledge_pipeline_findings
from pipeline.approval_step import ReleaseFacts, ReviewLinks, promotion_approval
from pipeline.artifact_store import ArtifactStore
from pipeline.connection_permissions import grant_both_connection_prefixes
from pipeline.image_build_step import image_build_step
from pipeline.image_repository import ImageRepository
from pipeline.image_tag import image_tag
from pipeline.node_runtime import nodejs_build_spec, pin_security_check
from pipeline.notifications import PipelineNotifications
from pipeline.promotion_step import promotion_steps
from pipeline.security_rebuild import schedule_security_rebuilds, synth_extension
from pipeline.smoke_test_step import smoke_test_step
from pipeline.synth_step import name_synth_variables, synth_step
from pipeline.vulnerability_gate_step import registry_scanning, vulnerability_gate
from stages.moodle_stage import MoodleStage

PACKAGE_JSON = Path(__file__).resolve().parent.parent / "package.json"


def pinned_npm_version(package: str) -> str:
    """The exact version package.json (and so package-lock.json) pins ``package`` to: what the
    pipeline's CodeBuild steps install globally is what ``npm ci`` installs here, no drift."""
    version = str(json.loads(PACKAGE_JSON.read_text())["devDependencies"][package])
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise ValueError(f"package.json: devDependencies.{package} must be an exact version, got {version!r}")
    return version


def pinned_cdk_cli_version() -> str:
    """The CLI that self-mutation and the permissions check run."""
    return pinned_npm_version("aws-cdk")


class PipelineStack(Stack):
    """Source -> Build (tests, synth, compliance) -> UpdatePipeline -> Assets -> dev (image build
    first, smoke tests last) -> approval -> staging -> approval -> prod, each with smoke tests.

    Before each environment deploys, CDK Pipelines' ``ConfirmPermissionsBroadening`` compares the
    stage's IAM and security-group changes with what is deployed there, and waits for a person only
    when they broaden. It precedes the promotion approvals instead of replacing them: it approves
    itself when nothing broadens, while staging and prod must always wait for a person. Dev, deployed
    without a promotion approval, gets the check too, so a broadening never reaches any account
    unseen.

    The stack's account and region are the tooling account's, from ``moodle.pipeline``.
    ``image_directory`` is what the image tag is hashed from (tests point it at a copy);
    ``image_build_args`` (the Moodle release: MOODLE_VERSION, MOODLE_SHA256, MOODLE_URL) go to the
    image build and into the tag, so that moving to another release rebuilds and rolls out.
    ``image_pins`` (moodle_infra/image_pins.py) are the Debian pins to build from, the committed ones by
    default; when the synth step has moved them (``committed_pins`` are then the ones in git), the
    approvals name the packages that moved.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ProjectConfig,
        image_directory: Path = IMAGE_DIRECTORY,
        image_build_args: Mapping[str, str] | None = None,
        image_pins: ImagePins | None = None,
        committed_pins: ImagePins | None = None,
    ) -> None:
        tooling = config.pipeline
        super().__init__(scope, construct_id, env=Environment(account=tooling.account, region=tooling.region))
        # A git clone rather than a zip: the synth step compares the acknowledgments with the
        # previous commit's ledger (compliance/ledger.py).
        source = pipelines.CodePipelineSource.connection(
            tooling.repository,
            tooling.branch,
            connection_arn=tooling.connection_arn,
            code_build_clone_output=True,
        )
        artifacts = ArtifactStore(self, "Artifacts")
        synth = synth_step(
            self,
            source=source,
            extension=synth_extension(
                tooling.security_rebuild, repository_name=tooling.image_repository_name
            ),
        )
        pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=artifacts.bucket,
            synth=synth.step,
            self_mutation=True,
            cross_account_keys=True,
            enable_key_rotation=True,
            publish_assets_in_parallel=False,
            cli_version=pinned_cdk_cli_version(),
            # CDK Pipelines would install cdk-assets@latest in the asset publishing steps.
            cdk_assets_cli_version=pinned_npm_version("cdk-assets"),
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0
                )
            ),
            # The steps that run the CDK CLI or cdk-assets (pipeline/node_runtime.py).
            synth_code_build_defaults=pipelines.CodeBuildOptions(partial_build_spec=nodejs_build_spec()),
            self_mutation_code_build_defaults=pipelines.CodeBuildOptions(
                partial_build_spec=nodejs_build_spec()
            ),
            asset_publishing_code_build_defaults=pipelines.CodeBuildOptions(
                partial_build_spec=nodejs_build_spec()
            ),
        )
        self.compliance_reports = synth.reports
        environments = list(config.environments.values())
        images = ImageRepository(
            self,
            "MoodleImages",
            config=tooling,
            pulling_accounts=[environment.account for environment in environments],
            environments=[environment.name for environment in environments],
        )
        registry_scanning(
            self, repository_name=tooling.image_repository_name, config=tooling.vulnerability_gate
        )
        build_args = dict(image_build_args or {})
        pins = image_pins or load_pins()
        image = images.image(image_tag(image_directory, build_args=build_args, pins=pins))
        gate = vulnerability_gate(
            self,
            source=source,
            repository=images.repository,
            image_tag=image.tag,
            config=tooling.vulnerability_gate,
        )
        release = ReleaseFacts(
            moodle_version=config.moodle_release.version,
            moodle_sha256=config.moodle_release.sha256,
            image_tag=image.tag,
            package_changes=tuple((committed_pins or pins).changes_to(pins)),
        )
        links = ReviewLinks(
            compliance_results=synth.results_url,
            acknowledgment_changes=synth.acknowledgment_changes,
            vulnerability_summary=gate.summary,
        )

        image_build = image_build_step(
            source=source,
            assembly=synth.step,
            repository=images.repository,
            tag=image.tag,
            build_args=build_args,
        )
        gate.step.add_step_dependency(image_build)
        smoke_tests: list[pipelines.CodeBuildStep] = []
        ecr_steps: list[pipelines.CodeBuildStep] = []
        tested: EnvironmentConfig | None = None
        for environment in environments:
            stage = MoodleStage(
                self,
                environment.name.title(),
                config=environment,
                image=image,
                pipeline_account=tooling.account,
            )
            smoke_test = smoke_test_step(
                self,
                environment=environment.name,
                stage=stage,
                source=source,
                expected_release=config.moodle_release.version,
            )
            smoke_tests.append(smoke_test)
            broadening = pipelines.ConfirmPermissionsBroadening(
                f"Permissions-{environment.name}", stage=stage
            )
            promotion = promotion_steps(
                source=source, repository=images.repository, environment=environment.name, image_tag=image.tag
            )
            ecr_steps += [promotion.mark, promotion.release]
            if tested is None:
                promotion.mark.add_step_dependency(gate.step)
                before_deploy: list[pipelines.Step] = [image_build, gate.step, broadening, promotion.mark]
            else:
                approval = promotion_approval(tested=tested, target=environment, release=release, links=links)
                approval.add_step_dependency(broadening)
                promotion.mark.add_step_dependency(approval)
                before_deploy = [broadening, approval, promotion.mark]
            pipeline.add_stage(stage, pre=before_deploy, post=[smoke_test, promotion.release])
            tested = environment

        pipeline.build_pipeline()
        name_synth_variables(pipeline.pipeline)
        schedule_security_rebuilds(
            self,
            pipeline=pipeline.pipeline,
            synth_project=synth.step.project,
            repository=images.repository,
            config=tooling.security_rebuild,
        )
        grant_both_connection_prefixes(self, connection_arn=tooling.connection_arn)
        pin_security_check(pipeline, cli_version=pinned_cdk_cli_version())
        notifications = PipelineNotifications(
            self, "Notifications", pipeline=pipeline.pipeline, email=tooling.notification_email
        )
        acknowledge_pipeline_findings(
            pipeline=pipeline,
            image_build=image_build,
            vulnerability_gate=gate.step,
            smoke_tests=smoke_tests,
            ecr_steps=ecr_steps,
        )

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
