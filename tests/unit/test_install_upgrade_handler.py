"""The install-or-upgrade custom resources' Lambda handler, against botocore's Stubber.

Every AWS call the handler makes is stubbed with its exact parameters and a response that botocore
checks against the service's own model, so a wrong parameter name or shape fails here, not at deploy.
"""

import http.server
import json
import logging
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import botocore.session  # type: ignore[import-untyped]
import pytest
from botocore.stub import ANY, Stubber  # type: ignore[import-untyped]

from moodle_infra.install_upgrade import handler

ACCOUNT = "222222222222"
CLUSTER_ARN = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/moodle-cluster"
PLAN_ARN = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task/moodle-cluster/0123456789abcdef0123456789abcdef"
UPGRADE_ARN = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task/moodle-cluster/fedcba9876543210fedcba9876543210"
STACK_ID = f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/Prod-Application/1111"
NEW_TASK_DEFINITION = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/install:8"
OLD_TASK_DEFINITION = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/install:7"
PLAN_STOPPED_AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
INSTANCE = "prod-database"
SNAPSHOT_SETTINGS = {
    "Enabled": "true",
    "DatabaseInstance": INSTANCE,
    "Environment": "prod",
    "Keep": "2",
    "TimeoutMinutes": "30",
}
WORKFLOW = f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:InstallOrUpgradeWorkflow"
STARTED_AT = PLAN_STOPPED_AT - timedelta(minutes=2)
"""When on_event started the plan task and the workflow."""
PROPERTIES: dict[str, Any] = {
    "ServiceToken": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:provider",
    "Step": handler.INSTALL_OR_UPGRADE,
    "Cluster": CLUSTER_ARN,
    "TaskDefinition": NEW_TASK_DEFINITION,
    "Image": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/moodle:abc",
    "ContainerName": "moodle",
    "Subnets": ["subnet-a", "subnet-b"],
    "SecurityGroups": ["sg-install"],
    "LogGroup": "install-logs",
    "LogStreamPrefix": "install-or-upgrade",
    "Snapshot": SNAPSHOT_SETTINGS,
    "Family": "install",
    "Workflow": WORKFLOW,
    "TimeoutMinutes": "480",
    "Handle": "set by the signal_server fixture",
}
UPGRADED = {
    "Upgraded": "true",
    "From": "5.0.6+ (Build: 20260403)",
    "To": "5.1.6 (Build: 20260810)",
    "Snapshot": "moodle-upgrade-prod-2025041406-11-to-2025100606-00-01234567",
    "Release": "5.1.6 (Build: 20260810)",
}
NOT_UPGRADED = json.dumps(
    {
        handler.SIGNAL_ID: json.dumps(
            {
                "Upgraded": "false",
                "From": UPGRADED["From"],
                "To": UPGRADED["From"],
                "Release": UPGRADED["From"],
            }
        )
    }
)
"""What the previous deploy's wait condition said: no upgrade."""
FINISH_PROPERTIES = {
    key: value
    for key, value in PROPERTIES.items()
    if key not in ("Snapshot", "Family", "Workflow", "TimeoutMinutes", "Handle")
} | {
    "Step": handler.FINISH,
    # The wait condition's Data attribute: the signal's Data under its UniqueId.
    "Upgrade": json.dumps({handler.SIGNAL_ID: json.dumps(UPGRADED)}),
}
UPGRADE_PLAN = {
    "action": "upgrade",
    "from": {"version": "2025041406.11", "release": "5.0.6+ (Build: 20260403)"},
    "to": {"version": "2025100606.00", "release": "5.1.6 (Build: 20260810)"},
    "plugins": [{"component": "mod_forum", "from": "2025041400", "to": "2025100600"}],
    "maintenance": False,
}
SNAPSHOT = "moodle-upgrade-prod-2025041406-11-to-2025100606-00-01234567"
NOW = PLAN_STOPPED_AT + timedelta(minutes=5)
"""The handler's clock, unless a test moves it."""
SESSION = botocore.session.get_session()
"""One session for every test: it loads each service model once."""


class Aws:
    """Stubbed clients, installed in place of the handler's client factories."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.clients = {
            name: SESSION.create_client(
                name, region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test"
            )
            for name in ("ecs", "rds", "logs", "cloudformation", "stepfunctions")
        }
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        for name, client in self.clients.items():
            monkeypatch.setattr(handler, f"{name}_client", lambda client=client: client)
            self.stubs[name].activate()
        monkeypatch.setattr(handler, "now", lambda: NOW)

    def expect(self, service: str, operation: str, params: dict[str, Any], response: dict[str, Any]) -> None:
        self.stubs[service].add_response(operation, response, params)

    def expect_error(self, service: str, operation: str, params: dict[str, Any], code: str) -> None:
        self.stubs[service].add_client_error(operation, service_error_code=code, expected_params=params)

    def verify(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()

    # The calls the handler makes, with the parameters it must send.

    def stack_status(self, status: str) -> None:
        self.expect(
            "cloudformation",
            "describe_stacks",
            {"StackName": STACK_ID},
            {
                "Stacks": [
                    {
                        "StackName": "Prod-Application",
                        "StackId": STACK_ID,
                        "CreationTime": PLAN_STOPPED_AT,
                        "StackStatus": status,
                    }
                ]
            },
        )

    def run_task(
        self,
        step: str,
        task_arn: str,
        *,
        task_definition: str = NEW_TASK_DEFINITION,
        started_by: str = handler.STARTED_BY,
    ) -> None:
        self.expect(
            "ecs",
            "run_task",
            {
                "cluster": CLUSTER_ARN,
                "taskDefinition": task_definition,
                "launchType": "FARGATE",
                "platformVersion": "LATEST",
                "count": 1,
                "startedBy": started_by,
                "networkConfiguration": {
                    "awsvpcConfiguration": {
                        "subnets": ["subnet-a", "subnet-b"],
                        "securityGroups": ["sg-install"],
                        "assignPublicIp": "DISABLED",
                    }
                },
                "overrides": {
                    "containerOverrides": [
                        {"name": "moodle", "environment": [{"name": handler.STEP_VARIABLE, "value": step}]}
                    ]
                },
            },
            {"tasks": [{"taskArn": task_arn}], "failures": []},
        )

    def task(self, task_arn: str, status: str, exit_code: int | None = None, **extra: Any) -> None:
        container: dict[str, Any] = {"name": "moodle", "lastStatus": status}
        if exit_code is not None:
            container["exitCode"] = exit_code
        task = {"taskArn": task_arn, "lastStatus": status, "containers": [container], **extra}
        if status == "STOPPED":
            task.setdefault("stoppedAt", PLAN_STOPPED_AT)
        self.expect(
            "ecs",
            "describe_tasks",
            {"cluster": CLUSTER_ARN, "tasks": [task_arn]},
            {"tasks": [task], "failures": []},
        )

    def plan_log(self, plan: dict[str, Any] | None) -> None:
        self.task_log(PLAN_ARN, "plan", plan)

    def release_log(self, release: str = "5.1.6 (Build: 20260810)") -> None:
        self.task_log(UPGRADE_ARN, "release", {"release": release, "version": "2025100606.00"})

    def task_log(self, task_arn: str, line: str, value: dict[str, Any] | None) -> None:
        lines = ["install-or-upgrade: waiting up to 3600 s for the lock 'moodle.mdl_install_or_upgrade'"]
        if value is not None:
            lines.append(f"install-or-upgrade: {line} " + json.dumps(value))
        self.expect(
            "logs",
            "get_log_events",
            {
                "logGroupName": "install-logs",
                "logStreamName": "install-or-upgrade/moodle/" + handler.task_id(task_arn),
                "startFromHead": True,
                "limit": 10000,
            },
            {"events": [{"timestamp": 1, "message": line, "ingestionTime": 2} for line in lines]},
        )

    def started_upgrade(self, running: str | None = None, stopped: str | None = None) -> None:
        for desired, arn in (("RUNNING", running), ("STOPPED", stopped)):
            self.expect(
                "ecs",
                "list_tasks",
                {"cluster": CLUSTER_ARN, "startedBy": upgrade_started_by(), "desiredStatus": desired},
                {"taskArns": [arn] if arn else []},
            )
            if arn:
                return

    def nothing_abandoned(self) -> None:
        self.expect(
            "stepfunctions",
            "list_executions",
            {"stateMachineArn": WORKFLOW, "statusFilter": "RUNNING"},
            {"executions": []},
        )
        self.expect(
            "ecs",
            "list_tasks",
            {"cluster": CLUSTER_ARN, "family": "install", "desiredStatus": "RUNNING"},
            {"taskArns": []},
        )

    def stop_task(self, task_arn: str, reason: Any = ANY) -> None:
        self.expect(
            "ecs",
            "stop_task",
            {"cluster": CLUSTER_ARN, "task": task_arn, "reason": reason},
            {"task": {"taskArn": task_arn, "lastStatus": "RUNNING", "desiredStatus": "STOPPED"}},
        )

    def snapshot_status(self, status: str | None) -> None:
        if status is None:
            self.expect_error(
                "rds", "describe_db_snapshots", {"DBSnapshotIdentifier": SNAPSHOT}, "DBSnapshotNotFound"
            )
        else:
            self.expect(
                "rds",
                "describe_db_snapshots",
                {"DBSnapshotIdentifier": SNAPSHOT},
                {"DBSnapshots": [snapshot(SNAPSHOT, status=status)]},
            )


def upgrade_started_by() -> str:
    return f"{handler.STARTED_BY}-{handler.task_id(PLAN_ARN)}"


def snapshot(
    name: str, *, status: str = "available", age_days: int = 0, environment: str | None = "prod"
) -> dict[str, Any]:
    tags = [{"Key": handler.SNAPSHOT_TAG, "Value": environment}] if environment else []
    return {
        "DBSnapshotIdentifier": name,
        "DBInstanceIdentifier": INSTANCE,
        "SnapshotType": "manual",
        "Status": status,
        "SnapshotCreateTime": PLAN_STOPPED_AT - timedelta(days=age_days),
        "TagList": tags,
    }


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    stubbed = Aws(monkeypatch)
    yield stubbed
    stubbed.verify()


def event(request_type: str, properties: dict[str, Any] = PROPERTIES, **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "StackId": STACK_ID,
        "RequestId": "request-1",
        "LogicalResourceId": "InstallOrUpgrade",
        "ResourceProperties": properties,
        **extra,
    }


def poll(properties: dict[str, Any] = PROPERTIES) -> dict[str, Any]:
    """One look at where the run stands: what each of the workflow's polls does first."""
    return handler.install_or_upgrade(PLAN_ARN, properties)


# Starting: what an abandoned run left is stopped, then the plan step and the workflow; finish on its own.


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_a_deploy_starts_the_plan_step_and_the_workflow_and_returns_at_once(
    aws: Aws, request_type: str
) -> None:
    if request_type == "Update":
        aws.stack_status("UPDATE_IN_PROGRESS")
    aws.nothing_abandoned()
    aws.run_task("plan", PLAN_ARN)
    execution = (
        f"arn:aws:states:eu-west-1:{ACCOUNT}:execution:InstallOrUpgradeWorkflow:{handler.task_id(PLAN_ARN)}"
    )
    aws.expect(
        "stepfunctions",
        "start_execution",
        {
            "stateMachineArn": WORKFLOW,
            "name": handler.task_id(PLAN_ARN),
            "input": json.dumps(
                {"ResourceProperties": PROPERTIES, "PlanTaskArn": PLAN_ARN, "StartedAt": NOW.isoformat()}
            ),
        },
        {"executionArn": execution, "startDate": NOW},
    )

    started = handler.on_event(event(request_type), None)

    assert started == {"Data": {"PlanTaskArn": PLAN_ARN, "Execution": execution}}
    # The wait condition waits for the workflow; the custom resource is done.
    assert handler.is_complete(event(request_type, **started), None) == {"IsComplete": True}


def test_a_new_deploy_stops_what_an_abandoned_one_left_running(
    aws: Aws, caplog: pytest.LogCaptureFixture
) -> None:
    """A deploy cancelled while its upgrade ran leaves the workflow and the task holding the lock: the
    next deploy stops both (and only tasks a deploy started: a runbook task is left alone)."""
    abandoned = f"arn:aws:states:eu-west-1:{ACCOUNT}:execution:InstallOrUpgradeWorkflow:old"
    runbook = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task/moodle-cluster/runbook"
    aws.expect(
        "stepfunctions",
        "list_executions",
        {"stateMachineArn": WORKFLOW, "statusFilter": "RUNNING"},
        {
            "executions": [
                {
                    "executionArn": abandoned,
                    "stateMachineArn": WORKFLOW,
                    "name": "old",
                    "status": "RUNNING",
                    "startDate": PLAN_STOPPED_AT,
                }
            ]
        },
    )
    aws.expect(
        "stepfunctions",
        "stop_execution",
        {"executionArn": abandoned, "error": "Abandoned", "cause": ANY},
        {"stopDate": NOW},
    )
    aws.expect(
        "ecs",
        "list_tasks",
        {"cluster": CLUSTER_ARN, "family": "install", "desiredStatus": "RUNNING"},
        {"taskArns": [UPGRADE_ARN, runbook]},
    )
    aws.expect(
        "ecs",
        "describe_tasks",
        {"cluster": CLUSTER_ARN, "tasks": [UPGRADE_ARN, runbook]},
        {
            "tasks": [
                {"taskArn": UPGRADE_ARN, "lastStatus": "RUNNING", "startedBy": upgrade_started_by()},
                {"taskArn": runbook, "lastStatus": "RUNNING", "startedBy": "runbook"},
            ],
            "failures": [],
        },
    )
    aws.stop_task(UPGRADE_ARN, "Abandoned by its deploy")
    aws.run_task("plan", PLAN_ARN)
    aws.stubs["stepfunctions"].add_response("start_execution", {"executionArn": "x", "startDate": NOW})

    with caplog.at_level(logging.ERROR, logger=handler.__name__):
        handler.on_event(event("Create"), None)

    assert f"{handler.UPGRADE_TASK_STOPPED}, {handler.MAINTENANCE_LEFT_ON}" in caplog.text


def test_the_finish_resource_runs_the_finish_step_and_tells_what_install_or_upgrade_did(aws: Aws) -> None:
    aws.stack_status("UPDATE_IN_PROGRESS")
    aws.run_task("finish", UPGRADE_ARN)

    started = handler.on_event(event("Update", FINISH_PROPERTIES), None)
    aws.task(UPGRADE_ARN, "STOPPED", 0)

    assert started == {"Data": {"TaskArn": UPGRADE_ARN, **UPGRADED}}
    assert handler.is_complete(event("Update", FINISH_PROPERTIES, **started), None) == {"IsComplete": True}


def test_finish_that_finds_the_schema_behind_fails_and_says_maintenance_stays_on(aws: Aws) -> None:
    aws.task(UPGRADE_ARN, "STOPPED", 10)

    with pytest.raises(handler.InstallOrUpgradeError) as failure:
        handler.is_complete(event("Update", FINISH_PROPERTIES, Data={"TaskArn": UPGRADE_ARN}), None)

    assert "exited with code 10 (the database does not match this image's code)" in str(failure.value)
    assert handler.MAINTENANCE_LEFT_ON in str(failure.value)


def test_start_fails_when_ecs_cannot_place_the_task(aws: Aws) -> None:
    aws.nothing_abandoned()
    # Only the response matters here: no expected parameters.
    aws.stubs["ecs"].add_response(
        "run_task", {"tasks": [], "failures": [{"arn": "arn:td", "reason": "RESOURCE:MEMORY"}]}
    )

    with pytest.raises(handler.InstallOrUpgradeError, match=r"could not start.*arn:td RESOURCE:MEMORY"):
        handler.on_event(event("Create"), None)


@pytest.mark.parametrize("properties", [PROPERTIES, FINISH_PROPERTIES])
def test_delete_runs_nothing(aws: Aws, properties: dict[str, Any]) -> None:
    delete = event("Delete", properties, PhysicalResourceId="install")

    assert handler.on_event(delete, None) == {}
    assert handler.is_complete(delete, None) == {"IsComplete": True}


# The plan, the snapshot and its bounded wait, pruning, the upgrade.


def test_waits_while_the_plan_step_runs(aws: Aws) -> None:
    aws.task(PLAN_ARN, "RUNNING")

    assert poll() == {"IsComplete": False}


def test_an_upgrade_first_creates_a_tagged_snapshot_named_after_environment_and_versions(aws: Aws) -> None:
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(UPGRADE_PLAN)
    aws.snapshot_status(None)
    aws.expect(
        "rds",
        "create_db_snapshot",
        {
            "DBSnapshotIdentifier": SNAPSHOT,
            "DBInstanceIdentifier": INSTANCE,
            "Tags": [{"Key": handler.SNAPSHOT_TAG, "Value": "prod"}],
        },
        {"DBSnapshot": snapshot(SNAPSHOT, status="creating")},
    )

    assert poll() == {"IsComplete": False}


def test_the_upgrade_waits_while_the_snapshot_is_being_created(aws: Aws) -> None:
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(UPGRADE_PLAN)
    aws.snapshot_status("creating")

    assert poll() == {"IsComplete": False}


def test_the_snapshot_wait_is_bounded_and_its_timeout_says_what_happened(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handler, "now", lambda: PLAN_STOPPED_AT + timedelta(minutes=31))
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(UPGRADE_PLAN)
    aws.snapshot_status("creating")

    with pytest.raises(handler.InstallOrUpgradeError) as failure:
        poll()

    message = str(failure.value)
    assert f"{SNAPSHOT} of {INSTANCE} was still 'creating' after 31 minutes" in message
    assert "upgrade_snapshots.timeout_minutes = 30" in message
    assert "the upgrade has not started and the site is unchanged" in message


def test_a_failed_snapshot_stops_the_deploy_before_the_upgrade(aws: Aws) -> None:
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(UPGRADE_PLAN)
    aws.snapshot_status("failed")

    with pytest.raises(handler.InstallOrUpgradeError, match=f"{SNAPSHOT} is 'failed'.*has not started"):
        poll()


def test_once_the_snapshot_is_available_old_upgrade_snapshots_are_pruned_then_the_upgrade_starts(
    aws: Aws,
) -> None:
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(UPGRADE_PLAN)
    aws.snapshot_status("available")
    aws.started_upgrade()
    first_page = [
        snapshot(SNAPSHOT),
        snapshot("moodle-upgrade-prod-2024100600-to-2025041400-aaaaaaaa", age_days=100),
        snapshot("moodle-upgrade-prod-2024041900-to-2024100600-bbbbbbbb", age_days=200),
        snapshot("moodle-upgrade-prod-2023100900-to-2024041900-cccccccc", age_days=300),
    ]
    second_page = [
        snapshot("moodle-upgrade-prod-2023042400-to-2023100900-dddddddd", age_days=400),
        snapshot("moodle-upgrade-prod-2023042400-to-2023100900-eeeeeeee", age_days=401, status="creating"),
        snapshot("moodle-upgrade-prod-2022112800-to-2023042400-ffffffff", age_days=500, environment=None),
        snapshot(
            "moodle-upgrade-prod-staging-2022112800-to-2023042400-00000000",
            age_days=500,
            environment="prod-staging",
        ),
        snapshot("before-term-start", age_days=600, environment=None),
    ]
    describe = {"DBInstanceIdentifier": INSTANCE, "SnapshotType": "manual"}
    aws.expect("rds", "describe_db_snapshots", describe, {"DBSnapshots": first_page, "Marker": "page-2"})
    aws.expect("rds", "describe_db_snapshots", describe | {"Marker": "page-2"}, {"DBSnapshots": second_page})
    for name in (
        "moodle-upgrade-prod-2024041900-to-2024100600-bbbbbbbb",
        "moodle-upgrade-prod-2023100900-to-2024041900-cccccccc",
        "moodle-upgrade-prod-2023042400-to-2023100900-dddddddd",
    ):
        aws.expect("rds", "delete_db_snapshot", {"DBSnapshotIdentifier": name}, {})
    aws.run_task("upgrade", UPGRADE_ARN, started_by=upgrade_started_by())

    assert poll() == {"IsComplete": False}


def test_no_pruning_while_an_earlier_upgrade_left_maintenance_on(aws: Aws) -> None:
    """A retry after a failed upgrade must keep the snapshot taken before the first attempt."""
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(UPGRADE_PLAN | {"maintenance": True})
    aws.snapshot_status("available")
    aws.started_upgrade()
    aws.run_task("upgrade", UPGRADE_ARN, started_by=upgrade_started_by())

    assert poll() == {"IsComplete": False}


def test_complete_once_the_upgrade_step_exits_0_with_what_it_did(aws: Aws) -> None:
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(UPGRADE_PLAN)
    aws.snapshot_status("available")
    aws.started_upgrade(stopped=UPGRADE_ARN)
    aws.task(UPGRADE_ARN, "STOPPED", 0)
    aws.release_log()

    assert poll() == {
        "IsComplete": True,
        "Data": {
            "Upgraded": "true",
            "From": "5.0.6+ (Build: 20260403)",
            "To": "5.1.6 (Build: 20260810)",
            "Snapshot": SNAPSHOT,
            "Release": "5.1.6 (Build: 20260810)",
        },
    }


def test_a_deploy_that_finishes_an_earlier_upgrade_counts_as_one_for_its_rollback(aws: Aws) -> None:
    """The first deploy upgraded, then rolled back; this one finds nothing to upgrade but the schema is
    still ahead of the previous image, so a rollback of this deploy must put the maintenance page back."""
    resumed = {"action": "none", "from": UPGRADE_PLAN["to"], "to": UPGRADE_PLAN["to"], "maintenance": True}
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(resumed)
    aws.started_upgrade(stopped=UPGRADE_ARN)
    aws.task(UPGRADE_ARN, "STOPPED", 0)
    aws.release_log()

    assert poll()["Data"]["Upgraded"] == "true"


def test_waits_while_the_upgrade_step_runs(aws: Aws) -> None:
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(UPGRADE_PLAN)
    aws.snapshot_status("available")
    aws.started_upgrade(running=UPGRADE_ARN)
    aws.task(UPGRADE_ARN, "RUNNING")

    assert poll() == {"IsComplete": False}


def test_a_failed_upgrade_raises_with_meaning_logs_and_the_maintenance_page_left_on(aws: Aws) -> None:
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(UPGRADE_PLAN)
    aws.snapshot_status("available")
    aws.started_upgrade(stopped=UPGRADE_ARN)
    aws.task(UPGRADE_ARN, "STOPPED", 5, stoppedReason="Essential container in task exited")

    with pytest.raises(handler.InstallOrUpgradeError) as failure:
        poll()

    message = str(failure.value)
    assert "exited with code 5 (Moodle install or upgrade failed)" in message
    assert "stopped reason: Essential container in task exited" in message
    assert f"stream install-or-upgrade/moodle/{handler.task_id(UPGRADE_ARN)}" in message
    assert handler.MAINTENANCE_LEFT_ON in message


@pytest.mark.parametrize(
    ("plan", "snapshots"),
    [
        ({"action": "none", **{k: UPGRADE_PLAN[k] for k in ("from", "to")}, "maintenance": False}, "true"),
        ({"action": "install", "maintenance": False}, "true"),
        (UPGRADE_PLAN, "false"),
    ],
    ids=["no-version-change", "first-install", "snapshots-off"],
)
def test_no_snapshot_without_a_version_change_or_with_snapshots_off(
    aws: Aws, plan: dict[str, Any], snapshots: str
) -> None:
    properties = PROPERTIES | {"Snapshot": SNAPSHOT_SETTINGS | {"Enabled": snapshots}}
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(plan)
    aws.started_upgrade()
    aws.run_task("upgrade", UPGRADE_ARN, started_by=upgrade_started_by())

    assert poll(properties) == {"IsComplete": False}  # no RDS call stubbed: any would fail here


def test_older_code_onto_an_upgraded_schema_stops_before_anything_runs(aws: Aws) -> None:
    """A git revert of the image after an upgrade: its plan finds the database newer than its code."""
    downgrade = {
        "action": "downgrade",
        "from": UPGRADE_PLAN["to"],
        "to": UPGRADE_PLAN["from"],
        "plugins": [],
        "downgrades": [{"component": "core", "from": "2025100606.00", "to": "2025041406.11"}],
        "maintenance": True,
    }
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(downgrade)

    with pytest.raises(handler.InstallOrUpgradeError) as refusal:
        poll()  # no snapshot, no upgrade task: any such call would fail against the stubs

    assert "newer Moodle than this image: core 2025100606.00 (this image: 2025041406.11)" in str(
        refusal.value
    )
    assert "nothing was changed" in str(refusal.value)


def test_waits_for_the_plan_line_while_cloudwatch_may_still_be_ingesting_it(aws: Aws) -> None:
    aws.task(PLAN_ARN, "STOPPED", 0, stoppedAt=PLAN_STOPPED_AT + timedelta(minutes=4))
    aws.plan_log(None)

    assert poll() == {"IsComplete": False}


def test_a_plan_step_without_a_plan_line_fails(aws: Aws) -> None:
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(None)

    with pytest.raises(handler.InstallOrUpgradeError, match="logged no plan line within 120 s"):
        poll()


def test_a_failed_plan_step_fails_without_claiming_maintenance(aws: Aws) -> None:
    aws.task(PLAN_ARN, "STOPPED", 3)

    with pytest.raises(handler.InstallOrUpgradeError) as failure:
        poll()

    assert "exited with code 3 (database not reachable in time)" in str(failure.value)
    assert handler.MAINTENANCE_LEFT_ON not in str(failure.value)


def test_a_task_stopped_without_exit_code_reports_the_stop_reason(aws: Aws) -> None:
    pull_failure = "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"
    aws.task(PLAN_ARN, "STOPPED", None, stoppedReason=pull_failure, stopCode="TaskFailedToStart")

    with pytest.raises(handler.InstallOrUpgradeError, match="stopped without an exit code") as failure:
        poll()

    assert pull_failure in str(failure.value)
    assert "stop code: TaskFailedToStart" in str(failure.value)


def test_a_task_unknown_to_ecs_fails(aws: Aws) -> None:
    aws.expect(
        "ecs",
        "describe_tasks",
        {"cluster": CLUSTER_ARN, "tasks": [PLAN_ARN]},
        {"tasks": [], "failures": [{"arn": PLAN_ARN, "reason": "MISSING"}]},
    )

    with pytest.raises(handler.InstallOrUpgradeError, match=f"no record of {PLAN_ARN}: {PLAN_ARN} MISSING"):
        poll()


# Rollback: the previous image never runs; after an upgrade the maintenance page goes back on.


def test_a_rollback_runs_nothing_of_the_previous_image_and_stops_the_rolled_back_run(aws: Aws) -> None:
    aws.stack_status(handler.ROLLING_BACK)
    aws.nothing_abandoned()
    rollback = event(
        "Update",
        PROPERTIES | {"TaskDefinition": OLD_TASK_DEFINITION},
        PhysicalResourceId="install",
        OldResourceProperties=PROPERTIES,
    )

    started = handler.on_event(rollback, None)

    assert started == {}
    assert handler.is_complete(rollback | started, None) == {"IsComplete": True}


def test_a_rollback_after_a_completed_upgrade_puts_the_maintenance_page_back_with_the_new_image(
    aws: Aws,
) -> None:
    """CloudFormation rolls the finish resource back before the web service: once this completes, the
    previous image's web tasks come back only to answer 503."""
    aws.stack_status(handler.ROLLING_BACK)
    aws.run_task("hold", UPGRADE_ARN, task_definition=NEW_TASK_DEFINITION)
    previous = FINISH_PROPERTIES | {"TaskDefinition": OLD_TASK_DEFINITION, "Upgrade": NOT_UPGRADED}
    rollback = event("Update", previous, PhysicalResourceId="finish", OldResourceProperties=FINISH_PROPERTIES)

    started = handler.on_event(rollback, None)
    aws.task(UPGRADE_ARN, "RUNNING")
    aws.task(UPGRADE_ARN, "STOPPED", 0)

    assert started["Data"]["TaskArn"] == UPGRADE_ARN
    assert started["Data"]["TaskDefinition"] == NEW_TASK_DEFINITION
    assert started["Data"]["Release"] == "5.0.6+ (Build: 20260403)", "the outputs of the restored template"
    assert handler.is_complete(rollback | started, None) == {"IsComplete": False}
    assert handler.is_complete(rollback | started, None) == {"IsComplete": True}


def test_a_rollback_of_a_deploy_that_did_not_upgrade_runs_nothing(aws: Aws) -> None:
    aws.stack_status(handler.ROLLING_BACK)
    previous = FINISH_PROPERTIES | {"TaskDefinition": OLD_TASK_DEFINITION}
    rolled_back = FINISH_PROPERTIES | {"Upgrade": NOT_UPGRADED}
    rollback = event("Update", previous, PhysicalResourceId="finish", OldResourceProperties=rolled_back)

    assert handler.on_event(rollback, None) == {"Data": UPGRADED}


# The workflow: it follows the run for as long as it takes, and signals the wait condition.


class Signals(http.server.BaseHTTPRequestHandler):
    """Stands in for the wait condition handle's presigned S3 URL, on loopback."""

    received: ClassVar[list[tuple[str, str | None, dict[str, Any]]]] = []

    def do_PUT(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Signals.received.append((self.command, self.headers.get("Content-Type"), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        return


@pytest.fixture
def signals(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str | None, dict[str, Any]]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Signals)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Signals.received = []
    monkeypatch.setitem(PROPERTIES, "Handle", f"http://127.0.0.1:{server.server_address[1]}/handle?signed")
    yield Signals.received
    server.shutdown()
    server.server_close()


def state(**extra: Any) -> dict[str, Any]:
    """What the workflow hands each poll: on_event's start, plus a caught failure for the abort."""
    return {
        "ResourceProperties": PROPERTIES,
        "PlanTaskArn": PLAN_ARN,
        "StartedAt": STARTED_AT.isoformat(),
        **extra,
    }


def at(monkeypatch: pytest.MonkeyPatch, elapsed: timedelta) -> None:
    monkeypatch.setattr(handler, "now", lambda: STARTED_AT + elapsed)


def upgrade_runs(aws: Aws, status: str, exit_code: int | None = None, **extra: Any) -> None:
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(UPGRADE_PLAN)
    aws.snapshot_status("available")
    aws.started_upgrade(**({"running": UPGRADE_ARN} if status == "RUNNING" else {"stopped": UPGRADE_ARN}))
    aws.task(UPGRADE_ARN, status, exit_code, **extra)


def test_an_upgrade_that_outlives_the_custom_resource_limit_completes_the_deploy(
    aws: Aws, signals: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three hours in, the upgrade still runs: the workflow waits. At five hours it exits 0: the wait
    condition gets its success signal, with what the run did, and the web service rolls out."""
    at(monkeypatch, timedelta(hours=3))
    upgrade_runs(aws, "RUNNING")
    assert handler.workflow(state(), None) == state(Done=False)
    assert signals == []

    at(monkeypatch, timedelta(hours=5))
    upgrade_runs(aws, "STOPPED", 0)
    aws.release_log()
    assert handler.workflow(state(), None) == state(Done=True)

    [(method, content_type, body)] = signals
    # A PUT without content type, as the presigned URL's signature expects.
    assert (method, content_type or "") == ("PUT", "")
    assert body == {
        "Status": "SUCCESS",
        "UniqueId": handler.SIGNAL_ID,
        "Reason": "install-or-upgrade finished: 5.0.6+ (Build: 20260403) -> 5.1.6 (Build: 20260810)",
        "Data": json.dumps(UPGRADED | {"Snapshot": SNAPSHOT}),
    }
    finish = FINISH_PROPERTIES | {"Upgrade": json.dumps({body["UniqueId"]: body["Data"]})}
    assert handler.outcome(finish)["Release"] == "5.1.6 (Build: 20260810)"


def test_a_failed_upgrade_fails_the_deploy_with_its_reason_and_what_to_do(
    aws: Aws, signals: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, timedelta(hours=2))
    upgrade_runs(aws, "STOPPED", 5, stoppedReason="Essential container in task exited")

    assert handler.workflow(state(), None) == state(Done=True)

    [(_, _, body)] = signals
    assert body["Status"] == "FAILURE"
    assert "exited with code 5 (Moodle install or upgrade failed)" in body["Reason"]
    assert f"stream install-or-upgrade/moodle/{handler.task_id(UPGRADE_ARN)}" in body["Reason"]
    assert handler.MAINTENANCE_LEFT_ON in body["Reason"]  # the task logged it too: the alarm fires
    assert body["Reason"].endswith(handler.RUNBOOK)


def test_a_timeout_stops_the_upgrade_task_leaves_the_page_on_and_says_what_to_run_next(
    aws: Aws, signals: list[Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    at(monkeypatch, timedelta(minutes=480, seconds=1))
    upgrade_runs(aws, "RUNNING")
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.started_upgrade(running=UPGRADE_ARN)
    aws.task(UPGRADE_ARN, "RUNNING")
    aws.stop_task(UPGRADE_ARN)

    with caplog.at_level(logging.ERROR, logger=handler.__name__):
        assert handler.workflow(state(), None) == state(Done=True)

    [(_, _, body)] = signals
    assert body["Status"] == "FAILURE"
    assert body["Reason"].startswith(
        "install-or-upgrade did not finish within 480 minutes (upgrade.timeout_minutes of prod in "
        f"cdk.json): the upgrade task {UPGRADE_ARN} was stopped and Moodle's maintenance page stays on"
    )
    assert "Next: retry the deploy, with a larger upgrade.timeout_minutes" in body["Reason"]
    # The stopped task cannot log it: the handler's line raises the maintenance alarm.
    assert f"{handler.UPGRADE_TASK_STOPPED}, {handler.MAINTENANCE_LEFT_ON}" in caplog.text


def test_a_timeout_before_the_upgrade_began_stops_the_plan_and_leaves_the_site_unchanged(
    aws: Aws, signals: list[Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    at(monkeypatch, timedelta(hours=9))
    aws.task(PLAN_ARN, "RUNNING")
    aws.task(PLAN_ARN, "RUNNING")
    aws.stop_task(PLAN_ARN)
    aws.started_upgrade()

    with caplog.at_level(logging.ERROR, logger=handler.__name__):
        handler.workflow(state(), None)

    [(_, _, body)] = signals
    assert "before the upgrade began: its tasks are stopped and the site is unchanged" in body["Reason"]
    assert handler.UPGRADE_TASK_STOPPED not in caplog.text


def test_past_the_limit_no_upgrade_starts_any_more(
    aws: Aws, signals: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot became available only after the limit: the upgrade is not started just to be stopped."""
    at(monkeypatch, timedelta(minutes=481))
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.plan_log(UPGRADE_PLAN)
    aws.snapshot_status("available")
    aws.started_upgrade()
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.started_upgrade()  # no run_task stubbed: starting the upgrade would fail here

    handler.workflow(state(), None)

    [(_, _, body)] = signals
    assert "before the upgrade began" in body["Reason"]


def test_an_upgrade_that_ended_just_before_the_limit_still_counts(
    aws: Aws, signals: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    at(monkeypatch, timedelta(minutes=480, seconds=20))
    upgrade_runs(aws, "STOPPED", 0)
    aws.release_log()

    handler.workflow(state(), None)

    assert [body["Status"] for _, _, body in signals] == ["SUCCESS"]


def test_when_the_workflow_itself_fails_it_stops_the_run_and_fails_the_deploy(
    aws: Aws, signals: list[Any]
) -> None:
    aws.task(PLAN_ARN, "STOPPED", 0)
    aws.started_upgrade(running=UPGRADE_ARN)
    aws.task(UPGRADE_ARN, "RUNNING")
    aws.stop_task(UPGRADE_ARN)
    failure = {"Error": "Lambda.TooManyRequestsException", "Cause": "Rate exceeded"}

    assert handler.workflow(state(Failure=failure), None)["Done"] is True

    [(_, _, body)] = signals
    assert body["Reason"].startswith(
        "the deploy's upgrade workflow failed (Lambda.TooManyRequestsException: Rate exceeded): the "
        f"upgrade task {UPGRADE_ARN} was stopped"
    )


# Snapshot names.

RDS_SNAPSHOT_IDENTIFIER = re.compile(r"(?=.{1,255}$)[a-z](?!.*--)[a-z0-9-]*[a-z0-9]")
"""RDS: 1 to 255 letters, digits or hyphens; a letter first; no two hyphens in a row; no hyphen last."""


@pytest.mark.parametrize("environment", ["prod", "staging", "Uni_Test.2", "sandbox"])
def test_snapshot_names_are_valid_rds_identifiers_under_the_environments_prefix(environment: str) -> None:
    name = handler.snapshot_name(environment, UPGRADE_PLAN, handler.task_id(PLAN_ARN))

    assert RDS_SNAPSHOT_IDENTIFIER.fullmatch(name), name
    assert name.startswith(handler.snapshot_prefix(environment))
    assert name.endswith("-2025041406-11-to-2025100606-00-01234567")
