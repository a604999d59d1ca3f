"""The pipeline's Build stage: install the pinned toolchain, run the fast tests, synthesize, and
publish the compliance results to a CodeBuild report group.

``make synth`` fails on any unacknowledged cdk-nag finding (cdk-nag is registered on the App), so a
change that breaks compliance never reaches the UpdatePipeline stage. Either way the gate writes
``cdk.out/compliance-junit.xml``, which CodeBuild reads into the report group (the build's *Reports*
tab), failed or not. The step exports two pipeline variables for the approvals: the address of this
build (:data:`RESULTS_URL`) and the acknowledgments changed since the previous commit
(:data:`ACKNOWLEDGMENT_CHANGES`).

CDK Pipelines supports ``exported_variable`` on the steps of a stage, not on the synth step, whose
outputs it refuses to resolve ("Output for step CodeBuildStep(Synth) not configured"). So the buildspec
exports the variables itself and :func:`name_synth_variables` gives the synth action its namespace.
"""

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_iam as iam
from constructs import Construct

from compliance.gate import CHANGES_NAME
from compliance.junit import JUNIT_NAME
from moodle_infra.image_pins import PINS_ENVIRONMENT_VARIABLE, PINS_FILE

CACHED_PATHS = ("/root/.cache/pip/**/*", "/root/.npm/**/*")
"""pip's and npm's download caches: a warm build skips fetching ~900 MB of wheels and packages."""

SYNTH_TIMEOUT = Duration.minutes(30)
ASSEMBLY_DIRECTORY = "cdk.out"
RESULTS_URL = "COMPLIANCE_RESULTS_URL"
ACKNOWLEDGMENT_CHANGES = "ACKNOWLEDGMENT_CHANGES"
SYNTH_STAGE = "Build"
SYNTH_ACTION = "Synth"
VARIABLES_NAMESPACE = "SynthVariables"
COMMITTED_PINS = PINS_FILE.relative_to(PINS_FILE.parents[1]).as_posix()
IMAGE_PINS_NAME = "image-pins.json"
"""The Debian pins the app built from (the refreshed ones, else image/debian-pins.json), copied into the
cloud assembly for the image build step."""
REPORT_ACTIONS = ("codebuild:CreateReport", "codebuild:UpdateReport", "codebuild:BatchPutTestCases")


def export_output(name: str, command: str) -> str:
    """``NAME="$(command)" && export NAME``: unlike ``export NAME="$(command)"``, whose status is export's,
    a failing command fails the step instead of exporting an empty value."""
    return f'{name}="$({command})" && export {name}'


@dataclass(frozen=True)
class SynthExtension:
    """What another concern adds to the synth step (pipeline/security_rebuild.py): commands around
    ``make synth`` (in its shell), variables to export, and environment variables."""

    before_synth: tuple[str, ...] = ()
    after_synth: tuple[str, ...] = ()
    exported_variables: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SynthStep:
    step: pipelines.CodeBuildStep
    reports: codebuild.ReportGroup

    results_url = f"#{{{VARIABLES_NAMESPACE}.{RESULTS_URL}}}"
    """This execution's synth build in the console (its Reports tab), as a pipeline variable."""
    acknowledgment_changes = f"#{{{VARIABLES_NAMESPACE}.{ACKNOWLEDGMENT_CHANGES}}}"
    """The one-line summary of acknowledgments added, removed or reworded, as a pipeline variable."""


def synth_step(
    scope: Construct, *, source: pipelines.IFileSetProducer, extension: SynthExtension = SynthExtension()
) -> SynthStep:
    """The Makefile is the one definition of how to install, test and synthesize, on a laptop and here:
    ``make install`` is ``python3.11 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt``
    and ``npm ci``, both from pinned lock files. Node.js comes from the pipeline's CodeBuild defaults
    (pipeline/node_runtime.py). ``extension`` adds the security rebuilds' commands (their pin refresh
    after the tests, their deploy decision after the synthesis) in the shell ``make synth`` runs in."""
    reports = codebuild.ReportGroup(
        scope,
        "ComplianceReports",
        type=codebuild.ReportGroupType.TEST,
        removal_policy=RemovalPolicy.DESTROY,
        delete_reports=True,
    )
    step = pipelines.CodeBuildStep(
        SYNTH_ACTION,
        input=source,
        install_commands=["make install"],
        commands=[
            "make test-fast",
            *extension.before_synth,
            "make synth",
            f'cp "${{{PINS_ENVIRONMENT_VARIABLE}:-{COMMITTED_PINS}}}" {ASSEMBLY_DIRECTORY}/{IMAGE_PINS_NAME}',
            *extension.after_synth,
            export_output(RESULTS_URL, ".venv/bin/python -m pipeline.review_link"),
            export_output(ACKNOWLEDGMENT_CHANGES, f"cat {ASSEMBLY_DIRECTORY}/{CHANGES_NAME}"),
        ],
        primary_output_directory=ASSEMBLY_DIRECTORY,
        timeout=SYNTH_TIMEOUT,
        cache=codebuild.Cache.local(codebuild.LocalCacheMode.CUSTOM),
        partial_build_spec=codebuild.BuildSpec.from_object(
            {
                "phases": {"install": {"runtime-versions": {"python": "3.11"}}},
                "cache": {"paths": list(CACHED_PATHS)},
                "env": {
                    "exported-variables": [RESULTS_URL, ACKNOWLEDGMENT_CHANGES, *extension.exported_variables]
                },
                "reports": {
                    reports.report_group_arn: {
                        "files": [JUNIT_NAME],
                        "base-directory": ASSEMBLY_DIRECTORY,
                        "file-format": "JUNITXML",
                    }
                },
            }
        ),
        env=dict(extension.env),
        role_policy_statements=[
            iam.PolicyStatement(actions=list(REPORT_ACTIONS), resources=[reports.report_group_arn])
        ],
    )
    return SynthStep(step=step, reports=reports)


def name_synth_variables(pipeline: codepipeline.Pipeline) -> None:
    """Give the synth action the namespace that :class:`SynthStep`'s variable references name.
    Call after ``build_pipeline()``; the stage and action are found by name, not position."""
    for stage_index, stage in enumerate(pipeline.stages):
        for action_index, action in enumerate(stage.actions):
            if (stage.stage_name, action.action_properties.action_name) == (SYNTH_STAGE, SYNTH_ACTION):
                cfn_pipeline = pipeline.node.default_child
                assert isinstance(cfn_pipeline, codepipeline.CfnPipeline)
                cfn_pipeline.add_property_override(
                    f"Stages.{stage_index}.Actions.{action_index}.Namespace", VARIABLES_NAMESPACE
                )
                return
    raise ValueError(f"the pipeline has no {SYNTH_STAGE}/{SYNTH_ACTION} action")
