"""Security rebuilds: the pipeline starts by itself on a schedule, and its synth step moves the image's
Debian pins forward first (pipeline/image_pins_refresh.py). A fix Debian published since the last run
gives new package versions, so a new image tag: the image is built, scanned by the vulnerability gate and
promoted through every environment with the usual approvals, which name the packages that moved. A
scheduled run whose image was built before (no fix for any of the image's packages since) skips dev,
staging and prod: nothing is rebuilt or rolled out, and no approver is asked.
"""

from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from moodle_infra.config import ENVIRONMENT_NAMES, SecurityRebuildConfig
from moodle_infra.image_pins import PINS_ENVIRONMENT_VARIABLE
from moodle_infra.managed_policy_role import ManagedPolicyRole
from pipeline.synth_step import VARIABLES_NAMESPACE, SynthExtension, export_output

REFRESHED_PINS = ".image-pins/refreshed.json"
"""Where the synth step writes the pins to build from (outside ``image/``, whose files make the tag)."""
DEPLOY_VARIABLE = "DEPLOY"
"""Exported by the synth step: "false" when a scheduled execution found nothing new (rebuild_decision)."""
DECISION = ".venv/bin/python -m pipeline.rebuild_decision"
SKIPPABLE_STAGES = tuple(name.title() for name in ENVIRONMENT_NAMES)
"""Each environment's stage (stages are named after their environment, pipeline/pipeline_stack.py)."""
READ_EXECUTION_ACTIONS = ("codepipeline:GetPipelineState", "codepipeline:GetPipelineExecution")


def synth_extension(config: SecurityRebuildConfig | None, *, repository_name: str) -> SynthExtension:
    """Before ``make synth``: move the pins (pipeline/image_pins_refresh.py) and build from them; after it:
    decide whether this execution deploys (pipeline/rebuild_decision.py). Nothing when rebuilds are off."""
    if config is None:
        return SynthExtension()
    return SynthExtension(
        before_synth=(
            f".venv/bin/python -m pipeline.image_pins_refresh --out {REFRESHED_PINS}",
            f"export {PINS_ENVIRONMENT_VARIABLE}={REFRESHED_PINS}",
        ),
        # A failed decision fails the step rather than leave DEPLOY empty, which would skip every environment.
        after_synth=(export_output(DEPLOY_VARIABLE, DECISION),),
        exported_variables=(DEPLOY_VARIABLE,),
        env=(("IMAGE_REPOSITORY_NAME", repository_name),),
    )


def schedule_security_rebuilds(
    scope: Construct,
    *,
    pipeline: codepipeline.Pipeline,
    synth_project: codebuild.IProject,
    repository: ecr.IRepository,
    config: SecurityRebuildConfig | None,
) -> events.Rule | None:
    """An EventBridge rule that starts the pipeline on ``config.schedule`` (its role may start this
    pipeline and nothing else, by a managed policy: moodle_infra/managed_policy_role.py); the synth
    step's reads for its decision; and the entry conditions that skip the environments when it says
    "false". Call after ``build_pipeline()``."""
    if config is None:
        return None
    synth_project.add_to_role_policy(
        iam.PolicyStatement(actions=list(READ_EXECUTION_ACTIONS), resources=[pipeline.pipeline_arn])
    )
    synth_project.add_to_role_policy(
        iam.PolicyStatement(actions=["ecr:DescribeImages"], resources=[repository.repository_arn])
    )
    skip_unless_deploying(pipeline)
    role = ManagedPolicyRole(
        scope, "SecurityRebuildRole", assumed_by=iam.ServicePrincipal("events.amazonaws.com")
    )
    return events.Rule(
        scope,
        "SecurityRebuildSchedule",
        description="Starts the pipeline to rebuild the Moodle image on Debian's newest security fixes",
        schedule=events.Schedule.expression(config.schedule),
        targets=[targets.CodePipeline(pipeline, event_role=role)],
    )


def skip_unless_deploying(pipeline: codepipeline.Pipeline) -> None:
    """An entry condition on each environment's stage: enter when the synth step's DEPLOY is "true", else
    skip the stage (a VariableCheck rule, one of the two rule types a SKIP result allows)."""
    cfn_pipeline = pipeline.node.default_child
    assert isinstance(cfn_pipeline, codepipeline.CfnPipeline)
    names = [stage.stage_name for stage in pipeline.stages]
    missing = [name for name in SKIPPABLE_STAGES if name not in names]
    if missing:
        raise ValueError(f"the pipeline has no stage {missing}")
    rule = {
        "Name": "DeployUnlessNothingMoved",
        "RuleTypeId": {"Category": "Rule", "Owner": "AWS", "Provider": "VariableCheck", "Version": "1"},
        "Configuration": {
            "Variable": f"#{{{VARIABLES_NAMESPACE}.{DEPLOY_VARIABLE}}}",
            "Operator": "EQ",
            "Value": "true",
        },
    }
    for name in SKIPPABLE_STAGES:
        cfn_pipeline.add_property_override(
            f"Stages.{names.index(name)}.BeforeEntry", {"Conditions": [{"Result": "SKIP", "Rules": [rule]}]}
        )
