"""Moodle's cron as its own ECS workload (decision 7): a one-task service, never a daemon in web tasks.

Why a long-running task and not a schedule that starts a task every minute: Moodle expects its cron
every minute, but a Fargate task takes 30-60 s to start and is billed for at least a minute, so a
per-minute schedule would cost about as much as an always-on task while running cron late, pulling
the image 1,440 times a day and risking a new run before the last one ended. The image's ``cron``
command instead loops Moodle's cron in ``--keep-alive`` mode, which picks up scheduled and ad-hoc
tasks (backups, notifications, course copies) within seconds. The price is the always-on task sized
by ``cron`` in the configuration.
"""

from aws_cdk import aws_ecs as ecs
from constructs import Construct

from moodle_infra import image_contract
from moodle_infra.config import CronConfig
from moodle_infra.moodle_task import MoodleRuntime, MoodleTaskDefinition, moodle_service


class CronService(Construct):
    """One cron task, no load balancer. A deploy stops the old task before it starts the new one, so two
    crons never overlap: Moodle's task locks would keep them from running the same task twice anyway,
    but overlapping only doubles the load. The circuit breaker rolls back an image whose cron keeps
    exiting."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster: ecs.ICluster,
        runtime: MoodleRuntime,
        config: CronConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        self.task = MoodleTaskDefinition(
            self,
            "Task",
            runtime=runtime,
            command=image_contract.COMMAND_CRON,
            cpu=config.cpu,
            memory_mib=config.memory_mib,
        )
        self.service = moodle_service(
            self,
            cluster=cluster,
            task=self.task,
            desired_count=1,
            min_healthy_percent=0,
            max_healthy_percent=100,
        )
