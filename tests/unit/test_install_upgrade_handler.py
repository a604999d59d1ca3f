"""The install-or-upgrade custom resources' Lambda handler, against botocore's Stubber.

Every AWS call the handler makes is stubbed with its exact parameters and a response that botocore
checks against the service's own model, so a wrong parameter name or shape fails here, not at deploy.
"""

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session  # type: ignore[import-untyped]
import pytest
from botocore.stub import Stubber  # type: ignore[import-untyped]

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
}
FINISH_PROPERTIES = {key: value for key, value in PROPERTIES.items() if key != "Snapshot"} | {
    "Step": handler.FINISH,
    "Upgraded": "true",
    "To": "5.1.6 (Build: 20260810)",
}
UPGRADE_PLAN = {
    "action": "upgrade",
    "from": {"version": "2025041406.11", "release": "5.0.6+ (Build: 20260403)"},
    "to": {"version": "2025100606.00", "release": "5.1.6 (Build: 20260810)"},
    "plugins": [{"component": "mod_forum", "from": "2025041400", "to": "2025100600"}],
    "maintenance": False,
}
SNAPSHOT = "moodle-upgrade-prod-2025041406-11-to-2025100606-00-01234567"
SESSION = botocore.session.get_session()
"""One session for every test: it loads each service model once."""


class Aws:
    """Stubbed clients, installed in place of the handler's client factories."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.clients = {
            name: SESSION.create_client(
                name, region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test"
            )
            for name in ("ecs", "rds", "logs", "cloudformation")
        }
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        for name, client in self.clients.items():
            monkeypatch.setattr(handler, f"{name}_client", lambda client=client: client)
            self.stubs[name].activate()
        monkeypatch.setattr(handler, "now", lambda: PLAN_STOPPED_AT + timedelta(minutes=5))

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
    return handler.is_complete(event("Update", properties, Data={"PlanTaskArn": PLAN_ARN}), None)


# Starting: the plan step first; finish on its own.


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_a_deploy_starts_with_the_plan_step(aws: Aws, request_type: str) -> None:
    if request_type == "Update":
        aws.stack_status("UPDATE_IN_PROGRESS")
    aws.run_task("plan", PLAN_ARN)

    assert handler.on_event(event(request_type), None) == {"Data": {"PlanTaskArn": PLAN_ARN}}


def test_the_finish_resource_runs_the_finish_step(aws: Aws) -> None:
    aws.stack_status("UPDATE_IN_PROGRESS")
    aws.run_task("finish", UPGRADE_ARN)

    started = handler.on_event(event("Update", FINISH_PROPERTIES), None)
    aws.task(UPGRADE_ARN, "STOPPED", 0)

    assert started == {"Data": {"TaskArn": UPGRADE_ARN}}
    assert handler.is_complete(event("Update", FINISH_PROPERTIES, **started), None) == {"IsComplete": True}


def test_finish_that_finds_the_schema_behind_fails_and_says_maintenance_stays_on(aws: Aws) -> None:
    aws.task(UPGRADE_ARN, "STOPPED", 10)

    with pytest.raises(handler.InstallOrUpgradeError) as failure:
        handler.is_complete(event("Update", FINISH_PROPERTIES, Data={"TaskArn": UPGRADE_ARN}), None)

    assert "exited with code 10 (the database does not match this image's code)" in str(failure.value)
    assert handler.MAINTENANCE_LEFT_ON in str(failure.value)


def test_start_fails_when_ecs_cannot_place_the_task(aws: Aws) -> None:
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


def test_a_rollback_runs_nothing_of_the_previous_image(aws: Aws) -> None:
    aws.stack_status(handler.ROLLING_BACK)
    rollback = event(
        "Update",
        PROPERTIES | {"TaskDefinition": OLD_TASK_DEFINITION},
        PhysicalResourceId="install",
        OldResourceProperties=PROPERTIES,
    )

    started = handler.on_event(rollback, None)

    assert started == {"Data": {"Upgraded": "false", "From": "", "To": "", "Snapshot": "", "Release": ""}}
    assert handler.is_complete(rollback | started, None) == {"IsComplete": True}


def test_a_rollback_after_a_completed_upgrade_puts_the_maintenance_page_back_with_the_new_image(
    aws: Aws,
) -> None:
    """CloudFormation rolls the finish resource back before the web service: once this completes, the
    previous image's web tasks come back only to answer 503."""
    aws.stack_status(handler.ROLLING_BACK)
    aws.run_task("hold", UPGRADE_ARN, task_definition=NEW_TASK_DEFINITION)
    previous = FINISH_PROPERTIES | {"TaskDefinition": OLD_TASK_DEFINITION, "Upgraded": "false"}
    rollback = event("Update", previous, PhysicalResourceId="finish", OldResourceProperties=FINISH_PROPERTIES)

    started = handler.on_event(rollback, None)
    aws.task(UPGRADE_ARN, "RUNNING")
    aws.task(UPGRADE_ARN, "STOPPED", 0)

    assert started == {"Data": {"TaskArn": UPGRADE_ARN, "TaskDefinition": NEW_TASK_DEFINITION}}
    assert handler.is_complete(rollback | started, None) == {"IsComplete": False}
    assert handler.is_complete(rollback | started, None) == {"IsComplete": True}


def test_a_rollback_of_a_deploy_that_did_not_upgrade_runs_nothing(aws: Aws) -> None:
    aws.stack_status(handler.ROLLING_BACK)
    previous = FINISH_PROPERTIES | {"TaskDefinition": OLD_TASK_DEFINITION}
    rolled_back = FINISH_PROPERTIES | {"Upgraded": "false"}
    rollback = event("Update", previous, PhysicalResourceId="finish", OldResourceProperties=rolled_back)

    assert handler.on_event(rollback, None) == {}


# Snapshot names.

RDS_SNAPSHOT_IDENTIFIER = re.compile(r"(?=.{1,255}$)[a-z](?!.*--)[a-z0-9-]*[a-z0-9]")
"""RDS: 1 to 255 letters, digits or hyphens; a letter first; no two hyphens in a row; no hyphen last."""


@pytest.mark.parametrize("environment", ["prod", "staging", "Uni_Test.2", "sandbox"])
def test_snapshot_names_are_valid_rds_identifiers_under_the_environments_prefix(environment: str) -> None:
    name = handler.snapshot_name(environment, UPGRADE_PLAN, handler.task_id(PLAN_ARN))

    assert RDS_SNAPSHOT_IDENTIFIER.fullmatch(name), name
    assert name.startswith(handler.snapshot_prefix(environment))
    assert name.endswith("-2025041406-11-to-2025100606-00-01234567")
