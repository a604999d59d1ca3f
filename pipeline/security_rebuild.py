"""Security rebuilds: the pipeline starts by itself on a schedule, and its synth step moves the image's
Debian pins forward first (pipeline/image_pins_refresh.py). A fix Debian published since the last run
gives new package versions, so a new image tag: the image is built, scanned by the vulnerability gate and
promoted through every environment with the usual approvals, which name the packages that moved. A week
with no fix for any of the image's packages resolves the committed pins again and changes nothing.
"""

from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from moodle_infra.config import SecurityRebuildConfig
from moodle_infra.image_pins import PINS_ENVIRONMENT_VARIABLE
from moodle_infra.managed_policy_role import ManagedPolicyRole

REFRESHED_PINS = ".image-pins/refreshed.json"
"""Where the synth step writes the pins to build from (outside ``image/``, whose files make the tag)."""


def refresh_commands(config: SecurityRebuildConfig | None) -> list[str]:
    """The synth step's commands before ``make synth``; none when security rebuilds are off."""
    if config is None:
        return []
    return [
        f".venv/bin/python -m pipeline.image_pins_refresh --out {REFRESHED_PINS}",
        f"export {PINS_ENVIRONMENT_VARIABLE}={REFRESHED_PINS}",
    ]


def schedule_security_rebuilds(
    scope: Construct, *, pipeline: codepipeline.IPipeline, config: SecurityRebuildConfig | None
) -> events.Rule | None:
    """An EventBridge rule that starts the pipeline on ``config.schedule``; its role may start this
    pipeline and nothing else, by a managed policy (moodle_infra/managed_policy_role.py)."""
    if config is None:
        return None
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
