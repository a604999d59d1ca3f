"""Lambda handlers of the install-or-upgrade custom resources and of the workflow that waits for an
upgrade of any length: they run the image's steps as one-off ECS tasks.

Two resources use them (docs/UPGRADES.md). ``Step: install-or-upgrade`` runs before the web service rolls
out: ``on_event`` stops what an earlier, abandoned run left running, starts the image's ``plan`` step and
the workflow (a Step Functions state machine), and returns at once. The workflow calls ``advance`` every
30 seconds: the plan says whether Moodle's version changes (core or any plugin); if it does and the
environment keeps its data, an RDS snapshot is taken and waited for, old upgrade snapshots are pruned, then
the ``upgrade`` step runs, which leaves Moodle's maintenance page on. When it ends, or fails, or runs out of
time (``upgrade.timeout_minutes``; the task is stopped then), ``advance`` signals the deploy's wait
condition, on which the web service waits: CloudFormation waits up to 12 hours for it, where a custom
resource is cut off after one. ``Step: finish`` runs once the web service has rolled out and lifts the page;
the CDK Provider framework calls ``on_event`` and then ``is_complete`` until its task has stopped.

Nothing carries over between calls, so each call derives where it stands from AWS: the plan task (its ARN
is in the event), the snapshot named after it, the upgrade task started by it.

During a rollback nothing old is run: the previous image must never meet a schema the new one upgraded.
The finish resource instead puts the maintenance page back on (the ``hold`` step, with the new image)
when the deploy being rolled back had upgraded. Stdlib and boto3 only: this file is deployed on its own.
"""

import json
import logging
import re
import urllib.request
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

STARTED_BY = "cloudformation-install-or-upgrade"
"""Shown in the ECS console, so an operator can tell these tasks from the web and cron tasks."""

ROLLING_BACK = "UPDATE_ROLLBACK_IN_PROGRESS"
STEP_VARIABLE = "MOODLE_INSTALL_OR_UPGRADE_STEP"
INSTALL_OR_UPGRADE = "install-or-upgrade"
FINISH = "finish"
PLAN_LINE = re.compile(r"^install-or-upgrade: plan (\{.*\})\s*$", re.MULTILINE)
RELEASE_LINE = re.compile(r"^install-or-upgrade: release (\{.*\})\s*$", re.MULTILINE)
SNAPSHOT_PREFIX = "moodle-upgrade"
SNAPSHOT_TAG = "moodle:upgrade-snapshot"
LOG_INGESTION_GRACE = timedelta(minutes=2)
"""How long after a task stopped its last log lines may still be on their way to CloudWatch Logs."""
MAINTENANCE_LEFT_ON = "MAINTENANCE LEFT ON"
"""Logged when a failure or a rollback leaves the maintenance page on; an alarm counts these lines."""
MAINTENANCE_LIFTED = "MAINTENANCE LIFTED"
"""Logged by the finish step when it lifts the page: the alarm's way back to OK."""
UPGRADE_TASK_STOPPED = "UPGRADE TASK STOPPED"
"""Logged (with MAINTENANCE_LEFT_ON) when a timeout, a workflow failure or a later deploy stops an upgrade
task that had begun: the task cannot say so itself, the maintenance page stays on, an alarm counts these."""
SIGNAL_ID = "install-or-upgrade"
"""The wait condition signal's UniqueId: a repeated signal is a retransmission, never a second signal."""
REASON_LIMIT = 2000
"""The signal's reason becomes the wait condition's status reason: the deploy's own error message."""
RUNBOOK = "docs/UPGRADES.md"

EXIT_CODE_MEANINGS = {
    1: "unexpected failure (the task's last ERROR line says why)",
    2: "configuration missing",
    3: "database not reachable in time",
    4: "another install-or-upgrade held the lock too long",
    5: "Moodle install or upgrade failed",
    6: "cache setup failed",
    9: "the database holds an unfinished install and site data: not cleared automatically, see docs/IMAGE.md",
    10: "the database does not match this image's code",
    11: "cdk.json forces settings that Moodle does not know (named in the task's log)",
    12: "the database holds add-on plugins the image lacks (named in the task's log): build them in again "
    "or list them in moodle.uninstall_plugins, see docs/UPGRADES.md",
}
"""What the image's ``install-or-upgrade`` command means by each non-zero exit code (see image/)."""


NOTHING_DONE = {"Upgraded": "false", "From": "", "To": "", "Snapshot": "", "Release": ""}


class InstallOrUpgradeError(Exception):
    """A task could not start or did not exit 0, or the snapshot failed; the message becomes the
    CloudFormation event's reason."""


def ecs_client() -> Any:
    """The ECS API; tests replace these factories with stubbed clients."""
    return _boto3().client("ecs")


def cloudformation_client() -> Any:
    return _boto3().client("cloudformation")


def logs_client() -> Any:
    return _boto3().client("logs")


def rds_client() -> Any:
    return _boto3().client("rds")


def stepfunctions_client() -> Any:
    return _boto3().client("stepfunctions")


def now() -> datetime:
    return datetime.now(UTC)


def _boto3() -> Any:
    """Imported on first use: boto3 is part of the Lambda runtime, not of this project's dependencies."""
    import boto3  # type: ignore[import-not-found]

    return boto3


def on_event(event: Mapping[str, Any], _context: object) -> dict[str, Any]:
    """Create and Update: start the resource's first task (and for install-or-upgrade, the workflow that
    waits for it). Delete leaves Moodle as it is."""
    request_type = event["RequestType"]
    properties = event["ResourceProperties"]
    if request_type == "Delete":
        return {}
    if request_type == "Update" and _is_rolling_back(event["StackId"]):
        return _on_rollback(event)
    if properties["Step"] == FINISH:
        task_arn = _run_task(properties, step="finish")
        logger.info("Started the finish step: %s", task_arn)
        return {"Data": {"TaskArn": task_arn, **outcome(properties)}}
    stop_abandoned_runs(properties)
    plan_arn = _run_task(properties, step="plan")
    started = {"ResourceProperties": properties, "PlanTaskArn": plan_arn, "StartedAt": now().isoformat()}
    execution = stepfunctions_client().start_execution(
        stateMachineArn=properties["Workflow"], name=task_id(plan_arn), input=json.dumps(started)
    )["executionArn"]
    logger.info("Started the plan step %s and the workflow %s", plan_arn, execution)
    return {"Data": {"PlanTaskArn": plan_arn, "Execution": execution}}


def is_complete(event: Mapping[str, Any], _context: object) -> dict[str, Any]:
    """finish and hold: complete once their task exits 0. install-or-upgrade completes at once: the wait
    condition, signalled by the workflow, is what the web service waits for."""
    data = event.get("Data", {})
    if "TaskArn" not in data:
        return {"IsComplete": True}
    properties = event["ResourceProperties"]
    # finish and hold use the task definition named in the event's Data (hold: the new image's).
    task_properties = {
        **properties,
        "TaskDefinition": data.get("TaskDefinition", properties["TaskDefinition"]),
    }
    task = _describe_task(data["TaskArn"], task_properties)
    if task["lastStatus"] != "STOPPED":
        return {"IsComplete": False}
    _require_exit_0(task, task_properties, maintenance_on=True)
    return {"IsComplete": True}


def workflow(state: Mapping[str, Any], context: object) -> dict[str, Any]:
    """The workflow's one Lambda entry: ``abort`` once the workflow caught a failure, else ``advance``."""
    return abort(state, context) if "Failure" in state else advance(state, context)


def advance(state: Mapping[str, Any], _context: object) -> dict[str, Any]:
    """One poll of the workflow: ``Done`` once the wait condition has been signalled, success or failure.
    Past ``TimeoutMinutes`` a run that has not finished is stopped; one that just finished still counts."""
    properties, plan_arn = state["ResourceProperties"], state["PlanTaskArn"]
    limit = timedelta(minutes=int(properties["TimeoutMinutes"]))
    late = now() - datetime.fromisoformat(state["StartedAt"]) > limit
    try:
        result = install_or_upgrade(plan_arn, properties, may_start_upgrade=not late)
        if not result["IsComplete"]:
            if late:
                _give_up(properties, plan_arn, _timeout_cause(properties))
            return {**state, "Done": late}
    except InstallOrUpgradeError as error:
        message = str(error)
        signal(properties["Handle"], status="FAILURE", reason=message + _runbook_unless_named(message))
        return {**state, "Done": True}
    done = result["Data"]
    reason = f"install-or-upgrade finished: {done['From'] or 'empty database'} -> {done['Release']}"
    signal(properties["Handle"], status="SUCCESS", reason=reason, data=json.dumps(done))
    return {**state, "Done": True}


def abort(state: Mapping[str, Any], _context: object) -> dict[str, Any]:
    """The workflow's last resort when ``advance`` itself kept failing: stop the run and fail the deploy."""
    failure = state.get("Failure", {})
    cause = f"the deploy's upgrade workflow failed ({failure.get('Error', 'unknown error')}: "
    cause += f"{str(failure.get('Cause', ''))[:300]})"
    _give_up(state["ResourceProperties"], state["PlanTaskArn"], cause)
    return {**state, "Done": True}


def outcome(properties: Mapping[str, Any]) -> dict[str, str]:
    """What install-or-upgrade did, from the wait condition's data the finish resource is given."""
    signals = json.loads(properties.get("Upgrade") or "{}")
    return {**NOTHING_DONE, **json.loads(signals[SIGNAL_ID])} if SIGNAL_ID in signals else dict(NOTHING_DONE)


def signal(url: str, *, status: str, reason: str, data: str = "") -> None:
    """Signal the wait condition: a PUT of JSON to its handle's presigned URL, with no content type
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-waitcondition.html)."""
    body = {"Status": status, "Reason": reason[:REASON_LIMIT], "UniqueId": SIGNAL_ID, "Data": data}
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    (logger.info if status == "SUCCESS" else logger.error)("Signalled %s: %s", status, body["Reason"])


def stop_abandoned_runs(properties: Mapping[str, Any]) -> None:
    """Stop every running workflow and every deploy-started task of this family (runbook tasks are left
    alone): CloudFormation runs one operation per stack at a time, so whatever still runs was abandoned
    by a cancelled or rolled-back deploy, and it would hold the install-or-upgrade lock a retry waits on."""
    workflows = stepfunctions_client()
    running = workflows.list_executions(stateMachineArn=properties["Workflow"], statusFilter="RUNNING")
    for execution in running["executions"]:
        workflows.stop_execution(
            executionArn=execution["executionArn"],
            error="Abandoned",
            cause="A later deploy or a rollback of the stack took over; its tasks are stopped too",
        )
        logger.warning("Stopped the abandoned workflow %s", execution["executionArn"])
    ecs = ecs_client()
    arns = ecs.list_tasks(cluster=properties["Cluster"], family=properties["Family"], desiredStatus="RUNNING")
    if not arns["taskArns"]:
        return
    for task in ecs.describe_tasks(cluster=properties["Cluster"], tasks=arns["taskArns"])["tasks"]:
        started_by = str(task.get("startedBy", ""))
        if started_by.startswith(STARTED_BY):
            ecs.stop_task(
                cluster=properties["Cluster"], task=task["taskArn"], reason="Abandoned by its deploy"
            )
            logger.warning("Stopped the abandoned task %s (%s)", task["taskArn"], started_by)
            if started_by != STARTED_BY:
                logger.error(
                    "%s, %s: %s was upgrading Moodle for an abandoned deploy. Runbook: %s",
                    UPGRADE_TASK_STOPPED,
                    MAINTENANCE_LEFT_ON,
                    task["taskArn"],
                    RUNBOOK,
                )


def _give_up(properties: Mapping[str, Any], plan_arn: str, cause: str) -> None:
    """Stop this run's tasks and fail the deploy, saying what happened and what to run next."""
    ecs = ecs_client()
    plan = _describe_task(plan_arn, properties)
    if plan["lastStatus"] != "STOPPED":
        ecs.stop_task(cluster=properties["Cluster"], task=plan_arn, reason=cause[:255])
    upgrade_arn = _task_started_by(f"{STARTED_BY}-{task_id(plan_arn)}", properties)
    if upgrade_arn is None:
        reason = (
            f"{cause}, before the upgrade began: its tasks are stopped and the site is unchanged. Next: "
            f"fix the cause and retry the deploy. Runbook: {RUNBOOK}"
        )
    else:
        if _describe_task(upgrade_arn, properties)["lastStatus"] != "STOPPED":
            ecs.stop_task(cluster=properties["Cluster"], task=upgrade_arn, reason=cause[:255])
        stream = _log_stream({"taskArn": upgrade_arn}, properties)
        reason = (
            f"{cause}: the upgrade task {upgrade_arn} was stopped and Moodle's maintenance page stays on "
            f"(Logs: group {properties['LogGroup']}, stream {stream}). Next: retry the deploy, with a "
            "larger upgrade.timeout_minutes if it ran out of time: the upgrade resumes where it stopped; "
            f"or restore the snapshot taken before it. Runbook: {RUNBOOK}"
        )
        logger.error("%s, %s: %s", UPGRADE_TASK_STOPPED, MAINTENANCE_LEFT_ON, reason)
    signal(properties["Handle"], status="FAILURE", reason=reason)


def _timeout_cause(properties: Mapping[str, Any]) -> str:
    environment = properties["Snapshot"]["Environment"]
    return (
        f"install-or-upgrade did not finish within {properties['TimeoutMinutes']} minutes "
        f"(upgrade.timeout_minutes of {environment} in cdk.json)"
    )


def _runbook_unless_named(message: str) -> str:
    return "" if RUNBOOK in message else f". Next: fix the cause and retry the deploy. Runbook: {RUNBOOK}"


def _on_rollback(event: Mapping[str, Any]) -> dict[str, Any]:
    """Stop the rolled-back deploy's upgrade; run nothing of the previous image; after an upgrade, put the
    maintenance page back on with the new.

    CloudFormation rolls back the finish resource before the web service, so the maintenance page is on
    before the previous image's tasks start again: they answer 503 and never open the upgraded database.
    """
    properties, rolled_back = event["ResourceProperties"], event.get("OldResourceProperties", {})
    if properties["Step"] != FINISH:
        logger.warning("The stack is rolling back: the previous image's install-or-upgrade step is not run")
        # A deploy cancelled while its upgrade runs (another resource failed): nothing may keep running.
        # A deploy made before the workflow existed had none.
        if "Workflow" in rolled_back:
            stop_abandoned_runs(rolled_back)
        return {}
    previous, undone = outcome(properties), outcome(rolled_back)
    if undone["Upgraded"] != "true":
        logger.warning("The stack is rolling back: the previous image's finish step is not run")
        return {"Data": previous}
    logger.warning(
        "%s: the stack is rolling back after an upgrade to %s; the previous image must not serve "
        "the upgraded database. Putting the maintenance page back on with %s. Runbook: %s",
        MAINTENANCE_LEFT_ON,
        undone["To"] or "the new release",
        rolled_back["TaskDefinition"],
        RUNBOOK,
    )
    task_arn = _run_task({**properties, "TaskDefinition": rolled_back["TaskDefinition"]}, step="hold")
    return {"Data": {"TaskArn": task_arn, "TaskDefinition": rolled_back["TaskDefinition"], **previous}}


def install_or_upgrade(
    plan_arn: str, properties: Mapping[str, Any], *, may_start_upgrade: bool = True
) -> dict[str, Any]:
    """plan -> (snapshot -> prune) -> upgrade, each stage found again from AWS on every call; past its
    time limit the run starts no upgrade any more."""
    plan_task = _describe_task(plan_arn, properties)
    if plan_task["lastStatus"] != "STOPPED":
        return {"IsComplete": False}
    _require_exit_0(plan_task, properties, maintenance_on=False)
    plan = read_plan(plan_task, properties)
    if plan is None:
        return {"IsComplete": False}
    if plan["action"] == "downgrade":
        raise InstallOrUpgradeError(downgrade_refusal(plan))
    upgrading = plan["action"] == "upgrade"
    snapshot = ""
    if takes_snapshot(plan, properties["Snapshot"]):
        snapshot = snapshot_name(properties["Snapshot"]["Environment"], plan, task_id(plan_arn))
        if not _snapshot_is_available(snapshot, properties["Snapshot"], plan_task):
            return {"IsComplete": False}
    started_by = f"{STARTED_BY}-{task_id(plan_arn)}"
    upgrade_arn = _task_started_by(started_by, properties)
    if upgrade_arn is None:
        if not may_start_upgrade:
            return {"IsComplete": False}
        if snapshot and not plan.get("maintenance"):
            prune_snapshots(properties["Snapshot"], keep_also=snapshot)
        upgrade_arn = _run_task(properties, step="upgrade", started_by=started_by)
        logger.info("Started the upgrade step: %s (plan: %s)", upgrade_arn, json.dumps(plan))
        return {"IsComplete": False}
    upgrade_task = _describe_task(upgrade_arn, properties)
    if upgrade_task["lastStatus"] != "STOPPED":
        return {"IsComplete": False}
    _require_exit_0(upgrade_task, properties, maintenance_on=upgrading)
    release = read_release(upgrade_task, properties)
    if release is None:
        return {"IsComplete": False}
    return {
        "IsComplete": True,
        "Data": {
            # Also when an earlier deploy upgraded and was rolled back: the schema is still ahead of the
            # previous image, which a rollback of this deploy would bring back.
            "Upgraded": "true" if upgrading or plan.get("maintenance") else "false",
            "From": _release(plan, "from"),
            "To": _release(plan, "to"),
            "Snapshot": snapshot,
            "Release": release,
        },
    }


def downgrade_refusal(plan: Mapping[str, Any]) -> str:
    """Why a deploy of older code onto a newer schema stops before anything runs."""
    newer = ", ".join(f"{d['component']} {d['from']} (this image: {d['to']})" for d in plan["downgrades"])
    return (
        f"the database holds a newer Moodle than this image: {newer}. Older code never runs against an "
        "upgraded schema, so nothing was changed. Restore the snapshot taken before the upgrade, or deploy "
        "the newer image again: docs/UPGRADES.md"
    )


def takes_snapshot(plan: Mapping[str, Any], settings: Mapping[str, Any]) -> bool:
    """Only an upgrade (core or plugin version change) in an environment that keeps its data."""
    return bool(plan["action"] == "upgrade" and settings["Enabled"] == "true")


def read_plan(task: Mapping[str, Any], properties: Mapping[str, Any]) -> dict[str, Any] | None:
    """The plan step's ``install-or-upgrade: plan {...}`` line from the task's CloudWatch log stream."""
    plan: dict[str, Any] | None = _logged_json(task, properties, PLAN_LINE, "plan")
    return plan


def read_release(task: Mapping[str, Any], properties: Mapping[str, Any]) -> str | None:
    """The release the database holds after the upgrade step, from its ``release {...}`` line."""
    release = _logged_json(task, properties, RELEASE_LINE, "release")
    return None if release is None else str(release.get("release", ""))


def _logged_json(
    task: Mapping[str, Any], properties: Mapping[str, Any], line: re.Pattern[str], what: str
) -> Any:
    """The JSON of the task's first log line that matches; None while CloudWatch may still be ingesting
    the task's last lines, an error once it has had time to."""
    stream = _log_stream(task, properties)
    events = logs_client().get_log_events(
        logGroupName=properties["LogGroup"], logStreamName=stream, startFromHead=True, limit=10000
    )["events"]
    for log_event in events:
        match = line.search(log_event["message"])
        if match:
            return json.loads(match[1])
    if now() - task["stoppedAt"] < LOG_INGESTION_GRACE:
        logger.info("No %s line in %s yet: waiting for CloudWatch Logs", what, stream)
        return None
    raise InstallOrUpgradeError(
        f"task {task['taskArn']} exited 0 but logged no {what} line within "
        f"{LOG_INGESTION_GRACE.total_seconds():.0f} s; Logs: group {properties['LogGroup']}, stream {stream}"
    )


def snapshot_name(environment: str, plan: Mapping[str, Any], unique: str) -> str:
    """moodle-upgrade-<environment>-<from version>-to-<to version>-<plan task>, unique per deploy."""
    versions = f"{plan['from']['version']}-to-{plan['to']['version']}-{unique[:8]}"
    return snapshot_prefix(environment) + _identifier(versions)


def snapshot_prefix(environment: str) -> str:
    """What every upgrade snapshot of one environment starts with, and nothing else's does."""
    return _identifier(f"{SNAPSHOT_PREFIX}-{environment}") + "-"


def _identifier(text: str) -> str:
    """Lowercase letters, digits and single hyphens: what RDS allows in a snapshot identifier."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _snapshot_is_available(name: str, settings: Mapping[str, Any], plan_task: Mapping[str, Any]) -> bool:
    """Create the snapshot if it does not exist yet; True once available. Bounded: the time limit runs
    from the end of the plan step, and running out fails the deploy before anything has changed."""
    rds = rds_client()
    try:
        snapshots = rds.describe_db_snapshots(DBSnapshotIdentifier=name)["DBSnapshots"]
    except rds.exceptions.DBSnapshotNotFoundFault:
        rds.create_db_snapshot(
            DBSnapshotIdentifier=name,
            DBInstanceIdentifier=settings["DatabaseInstance"],
            Tags=[{"Key": SNAPSHOT_TAG, "Value": settings["Environment"]}],
        )
        logger.info("Creating the database snapshot %s before the upgrade", name)
        return False
    status = snapshots[0]["Status"]
    if status == "available":
        logger.info("The database snapshot %s is available", name)
        return True
    if status != "creating":
        raise InstallOrUpgradeError(
            f"the database snapshot {name} is '{status}', not available: the upgrade has not started, "
            "the site is unchanged. Runbook: docs/UPGRADES.md"
        )
    limit = timedelta(minutes=int(settings["TimeoutMinutes"]))
    waited = now() - plan_task["stoppedAt"]
    if waited > limit:
        raise InstallOrUpgradeError(
            f"the database snapshot {name} of {settings['DatabaseInstance']} was still 'creating' after "
            f"{int(waited.total_seconds() // 60)} minutes (upgrade_snapshots.timeout_minutes = "
            f"{settings['TimeoutMinutes']} in cdk.json): the upgrade has not started and the site is "
            "unchanged. RDS goes on creating the snapshot; deploy again once it is available, or raise "
            "the limit"
        )
    logger.info("The database snapshot %s is %s (%d s so far)", name, status, waited.total_seconds())
    return False


def prune_snapshots(settings: Mapping[str, Any], *, keep_also: str) -> list[str]:
    """Delete this environment's upgrade snapshots beyond the newest ``Keep`` available ones.

    Only manual snapshots of this instance whose name has this environment's upgrade prefix and that
    carry the upgrade tag are candidates; ``keep_also`` (the one just taken) is never deleted.
    """
    rds = rds_client()
    prefix = snapshot_prefix(settings["Environment"])
    ours = [
        snapshot
        for snapshot in _manual_snapshots(rds, settings["DatabaseInstance"])
        if snapshot["DBSnapshotIdentifier"].startswith(prefix)
        and snapshot["Status"] == "available"
        and {"Key": SNAPSHOT_TAG, "Value": settings["Environment"]} in snapshot.get("TagList", [])
    ]
    ours.sort(key=lambda snapshot: snapshot["SnapshotCreateTime"], reverse=True)
    doomed = [
        s["DBSnapshotIdentifier"]
        for s in ours[int(settings["Keep"]) :]
        if s["DBSnapshotIdentifier"] != keep_also
    ]
    for name in doomed:
        rds.delete_db_snapshot(DBSnapshotIdentifier=name)
        logger.info("Deleted the old upgrade snapshot %s", name)
    return doomed


def _manual_snapshots(rds: Any, instance: str) -> Iterator[dict[str, Any]]:
    marker = None
    while True:
        page = rds.describe_db_snapshots(
            DBInstanceIdentifier=instance, SnapshotType="manual", **({"Marker": marker} if marker else {})
        )
        yield from page["DBSnapshots"]
        marker = page.get("Marker")
        if not marker:
            return


def _release(plan: Mapping[str, Any], side: str) -> str:
    return str(plan.get(side, {}).get("release", ""))


def task_id(task_arn: str) -> str:
    return task_arn.rsplit("/", 1)[-1]


def _is_rolling_back(stack_id: str) -> bool:
    stacks = cloudformation_client().describe_stacks(StackName=stack_id)["Stacks"]
    return str(stacks[0]["StackStatus"]) == ROLLING_BACK


def _describe_task(task_arn: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    response = ecs_client().describe_tasks(cluster=properties["Cluster"], tasks=[task_arn])
    tasks = response.get("tasks", [])
    if not tasks:
        raise InstallOrUpgradeError(f"ECS has no record of {task_arn}: {_failures(response)}")
    task: dict[str, Any] = tasks[0]
    if task["lastStatus"] != "STOPPED":
        logger.info("%s is %s", task_arn, task["lastStatus"])
    return task


def _task_started_by(started_by: str, properties: Mapping[str, Any]) -> str | None:
    ecs = ecs_client()
    for desired_status in ("RUNNING", "STOPPED"):
        arns = ecs.list_tasks(
            cluster=properties["Cluster"], startedBy=started_by, desiredStatus=desired_status
        )
        if arns["taskArns"]:
            return str(arns["taskArns"][0])
    return None


def _run_task(properties: Mapping[str, Any], *, step: str, started_by: str = STARTED_BY) -> str:
    response = ecs_client().run_task(
        cluster=properties["Cluster"],
        taskDefinition=properties["TaskDefinition"],
        launchType="FARGATE",
        platformVersion="LATEST",
        count=1,
        startedBy=started_by,
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": properties["Subnets"],
                "securityGroups": properties["SecurityGroups"],
                "assignPublicIp": "DISABLED",
            }
        },
        overrides={
            "containerOverrides": [
                {"name": properties["ContainerName"], "environment": [{"name": STEP_VARIABLE, "value": step}]}
            ]
        },
    )
    tasks = response.get("tasks", [])
    if not tasks:
        raise InstallOrUpgradeError(f"ECS could not start the install-or-upgrade task: {_failures(response)}")
    return str(tasks[0]["taskArn"])


def _require_exit_0(task: Mapping[str, Any], properties: Mapping[str, Any], *, maintenance_on: bool) -> None:
    container: Mapping[str, Any] = next(
        (c for c in task.get("containers", []) if c["name"] == properties["ContainerName"]), {}
    )
    if container.get("exitCode") == 0:
        logger.info("%s exited 0", task["taskArn"])
        return
    message = _failure_message(task, container, properties)
    if maintenance_on:
        message += (
            ". If the upgrade had begun, the maintenance page stays on (the task's log then says "
            f"'{MAINTENANCE_LEFT_ON}') until the upgrade is finished or the snapshot restored: "
            "docs/UPGRADES.md"
        )
        logger.error(message)
    raise InstallOrUpgradeError(message)


def _failures(response: Mapping[str, Any]) -> str:
    failures = response.get("failures", [])
    described = [" ".join(str(f[key]) for key in ("arn", "reason", "detail") if f.get(key)) for f in failures]
    return "; ".join(described) or "no reason given"


def _log_stream(task: Mapping[str, Any], properties: Mapping[str, Any]) -> str:
    return f"{properties['LogStreamPrefix']}/{properties['ContainerName']}/{task_id(str(task['taskArn']))}"


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
    sentences = (
        f"install-or-upgrade task {task['taskArn']} {outcome}",
        details,
        f"Logs: group {properties['LogGroup']}, stream {_log_stream(task, properties)}",
    )
    return ". ".join(sentence for sentence in sentences if sentence)
