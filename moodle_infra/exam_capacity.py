"""Capacity that is there before an exam starts: scheduled actions on the web service's scalable target.

Target tracking reacts after the load has arrived, and a new Fargate task needs minutes to pull, start and
pass its health checks, while a synchronized exam start lasts seconds (docs/CAPACITY.md). So each
configured exam window raises the minimum task count ahead of its start and restores it at its end; the
scaling policies keep working on top of both.
"""

from datetime import datetime

from aws_cdk import TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from moodle_infra.config import ExamWindow, WebServiceConfig


def _at(moment: datetime) -> appscaling.Schedule:
    """A one-time schedule at ``moment``'s wall-clock time; the action's time zone says which zone."""
    return appscaling.Schedule.expression(f"at({moment:%Y-%m-%dT%H:%M:%S})")


def action_names(window: ExamWindow) -> tuple[str, str]:
    """Names of the window's two actions, from its start: unique per scalable target, and without the
    ":", "/" and "|" that Application Auto Scaling refuses in a name."""
    stem = f"exam-{window.local_start():%Y%m%dT%H%M}"
    return f"{stem}-raise", f"{stem}-restore"


class ExamCapacity(Construct):
    """One raise and one restore action per exam window of ``config``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        scaling: ecs.ScalableTaskCount,
        config: WebServiceConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        for window in config.exam_windows:
            raise_name, restore_name = action_names(window)
            time_zone = TimeZone.of(window.time_zone)
            # Both capacities in each action: an action that names only one leaves the other as the last
            # action set it, and the restore must return to exactly the configured range.
            scaling.scale_on_schedule(
                raise_name,
                schedule=_at(window.raised_at()),
                time_zone=time_zone,
                min_capacity=window.min_tasks,
                max_capacity=config.max_tasks,
            )
            scaling.scale_on_schedule(
                restore_name,
                schedule=_at(window.restored_at()),
                time_zone=time_zone,
                min_capacity=config.min_tasks,
                max_capacity=config.max_tasks,
            )
