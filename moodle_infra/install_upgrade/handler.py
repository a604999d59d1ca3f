"""Lambda handler of the install-or-upgrade custom resource: runs the image's command as a one-off ECS task.

The CDK Provider framework calls ``on_event`` once per CloudFormation request, then ``is_complete``
every query interval until it returns complete or raises. Raising fails the resource at once, so a
task that does not exit 0 fails the deployment and CloudFormation rolls back before the web service
gets the new image. Stdlib and boto3 only: this file is deployed on its own.
"""

import logging
from collections.abc import Mapping
from typing import Any, Protocol

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

STARTED_BY = "cloudformation-install-or-upgrade"
"""Shown in the ECS console, so an operator can tell this task from the web and cron tasks."""

ROLLING_BACK = "UPDATE_ROLLBACK_IN_PROGRESS"

EXIT_CODE_MEANINGS = {
    2: "configuration missing",
    3: "database not reachable in time",
    4: "another install-or-upgrade held the lock too long",
    5: "Moodle install or upgrade failed",
    6: "cache setup failed",
    9: "the database holds an unfinished install and site data: not cleared automatically, see docs/IMAGE.md",
}
"""What the image's ``install-or-upgrade`` command means by each non-zero exit code (see image/)."""


class EcsClient(Protocol):
    def run_task(self, **kwargs: Any) -> dict[str, Any]: ...

    def describe_tasks(self, **kwargs: Any) -> dict[str, Any]: ...


class CloudFormationClient(Protocol):
    def describe_stacks(self, **kwargs: Any) -> dict[str, Any]: ...


class InstallOrUpgradeError(Exception):
    """The task could not start or did not exit 0; the message becomes the CloudFormation event's reason."""


def ecs_client() -> EcsClient:
    """The ECS API; tests replace this function with a fake."""
    client: EcsClient = _boto3().client("ecs")
    return client


def cloudformation_client() -> CloudFormationClient:
    """The CloudFormation API; tests replace this function with a fake."""
    client: CloudFormationClient = _boto3().client("cloudformation")
    return client


def _boto3() -> Any:
    """Imported on first use: boto3 is part of the Lambda runtime, not of this project's dependencies."""
    import boto3  # type: ignore[import-not-found]

    return boto3


def on_event(event: Mapping[str, Any], _context: object) -> dict[str, Any]:
    """Start the task on Create and Update. Delete leaves Moodle's data as it is: nothing to undo.

    During a rollback CloudFormation sends an Update back to the previous image. Running that image's
    install-or-upgrade could only fail (Moodle refuses to downgrade a database a newer release has
    upgraded) and would leave the stack in UPDATE_ROLLBACK_FAILED, so a rollback runs nothing.
    """
    request_type = event["RequestType"]
    if request_type == "Delete":
        return {}
    if request_type == "Update" and _is_rolling_back(event["StackId"]):
        logger.warning("The stack is rolling back: the previous image's install-or-upgrade is not run")
        return {}
    task_arn = _run_task(event["ResourceProperties"])
    logger.info("Started %s", task_arn)
    return {"Data": {"TaskArn": task_arn}}


def is_complete(event: Mapping[str, Any], _context: object) -> dict[str, bool]:
    """Complete once the task has stopped with exit code 0; raise if it stopped any other way."""
    task_arn = event.get("Data", {}).get("TaskArn")
    if task_arn is None:
        return {"IsComplete": True}
    properties = event["ResourceProperties"]
    response = ecs_client().describe_tasks(cluster=properties["Cluster"], tasks=[task_arn])
    tasks = response.get("tasks", [])
    if not tasks:
        raise InstallOrUpgradeError(f"ECS has no record of {task_arn}: {_failures(response)}")
    task = tasks[0]
    if task["lastStatus"] != "STOPPED":
        logger.info("%s is %s", task_arn, task["lastStatus"])
        return {"IsComplete": False}
    container: Mapping[str, Any] = next(
        (c for c in task.get("containers", []) if c["name"] == properties["ContainerName"]), {}
    )
    if container.get("exitCode") == 0:
        logger.info("%s exited 0", task_arn)
        return {"IsComplete": True}
    raise InstallOrUpgradeError(_failure_message(task, container, properties))


def _is_rolling_back(stack_id: str) -> bool:
    stacks = cloudformation_client().describe_stacks(StackName=stack_id)["Stacks"]
    return str(stacks[0]["StackStatus"]) == ROLLING_BACK


def _run_task(properties: Mapping[str, Any]) -> str:
    response = ecs_client().run_task(
        cluster=properties["Cluster"],
        taskDefinition=properties["TaskDefinition"],
        launchType="FARGATE",
        platformVersion="LATEST",
        count=1,
        startedBy=STARTED_BY,
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": properties["Subnets"],
                "securityGroups": properties["SecurityGroups"],
                "assignPublicIp": "DISABLED",
            }
        },
    )
    tasks = response.get("tasks", [])
    if not tasks:
        raise InstallOrUpgradeError(f"ECS could not start the install-or-upgrade task: {_failures(response)}")
    return str(tasks[0]["taskArn"])


def _failures(response: Mapping[str, Any]) -> str:
    failures = response.get("failures", [])
    described = [" ".join(str(f[key]) for key in ("arn", "reason", "detail") if f.get(key)) for f in failures]
    return "; ".join(described) or "no reason given"


def _failure_message(
    task: Mapping[str, Any], container: Mapping[str, Any], properties: Mapping[str, Any]
) -> str:
    exit_code = container.get("exitCode")
    if exit_code is None:
        outcome = "stopped without an exit code"
    else:
        meaning = EXIT_CODE_MEANINGS.get(exit_code)
        outcome = f"exited with code {exit_code}" + (f" ({meaning})" if meaning else "")
    reasons = (
        ("stopped reason", task.get("stoppedReason")),
        ("stop code", task.get("stopCode")),
        ("container reason", container.get("reason")),
    )
    details = "; ".join(f"{label}: {value}" for label, value in reasons if value)
    task_id = str(task["taskArn"]).rsplit("/", 1)[-1]
    log_stream = f"{properties['LogStreamPrefix']}/{properties['ContainerName']}/{task_id}"
    sentences = (
        f"install-or-upgrade task {task['taskArn']} {outcome}",
        details,
        f"Logs: group {properties['LogGroup']}, stream {log_stream}",
    )
    return ". ".join(sentence for sentence in sentences if sentence)
