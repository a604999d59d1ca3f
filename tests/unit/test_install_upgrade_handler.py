"""The install-or-upgrade custom resource's Lambda handler, against fake ECS and CloudFormation clients."""

from typing import Any

import pytest

from moodle_infra.install_upgrade import handler

TASK_ARN = "arn:aws:ecs:eu-west-1:222222222222:task/moodle-cluster/0123456789abcdef"
CLUSTER_ARN = "arn:aws:ecs:eu-west-1:222222222222:cluster/moodle-cluster"
STACK_ID = "arn:aws:cloudformation:eu-west-1:222222222222:stack/Dev-Application/1111"
PROPERTIES = {
    "ServiceToken": "arn:aws:lambda:eu-west-1:222222222222:function:provider",
    "Cluster": CLUSTER_ARN,
    "TaskDefinition": "arn:aws:ecs:eu-west-1:222222222222:task-definition/install:7",
    "Image": "111111111111.dkr.ecr.eu-west-1.amazonaws.com/moodle:abc",
    "ContainerName": "moodle",
    "Subnets": ["subnet-a", "subnet-b"],
    "SecurityGroups": ["sg-install"],
    "LogGroup": "install-logs",
    "LogStreamPrefix": "install-or-upgrade",
}


class FakeEcs:
    """Records the calls and answers DescribeTasks with the scripted task states, one per call."""

    def __init__(self, *, run_task: dict[str, Any] | None = None, tasks: list[dict[str, Any]] | None = None):
        self.run_task_response = run_task or {"tasks": [{"taskArn": TASK_ARN}], "failures": []}
        self.task_states = list(tasks or [])
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def run_task(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("run_task", kwargs))
        return self.run_task_response

    def describe_tasks(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe_tasks", kwargs))
        if not self.task_states:
            return {"tasks": [], "failures": [{"arn": TASK_ARN, "reason": "MISSING"}]}
        return {"tasks": [self.task_states.pop(0)], "failures": []}


class FakeCloudFormation:
    def __init__(self, status: str) -> None:
        self.status = status

    def describe_stacks(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs == {"StackName": STACK_ID}
        return {"Stacks": [{"StackId": STACK_ID, "StackStatus": self.status}]}


@pytest.fixture
def ecs(monkeypatch: pytest.MonkeyPatch) -> FakeEcs:
    fake = FakeEcs()
    monkeypatch.setattr(handler, "ecs_client", lambda: fake)
    monkeypatch.setattr(handler, "cloudformation_client", lambda: FakeCloudFormation("UPDATE_IN_PROGRESS"))
    return fake


def request(request_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "StackId": STACK_ID,
        "RequestId": "request-1",
        "LogicalResourceId": "InstallOrUpgrade",
        "ResourceProperties": PROPERTIES,
        **extra,
    }


def stopped(exit_code: int | None, **task: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "moodle", "lastStatus": "STOPPED"}
    if exit_code is not None:
        container["exitCode"] = exit_code
    return {"taskArn": TASK_ARN, "lastStatus": "STOPPED", "containers": [container], **task}


def poll(ecs: FakeEcs, task: dict[str, Any]) -> dict[str, bool]:
    ecs.task_states.append(task)
    return handler.is_complete(request("Create", Data={"TaskArn": TASK_ARN}), None)


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_start_runs_the_task_definition_in_private_subnets(ecs: FakeEcs, request_type: str) -> None:
    result = handler.on_event(request(request_type, PhysicalResourceId="install"), None)

    assert result == {"Data": {"TaskArn": TASK_ARN}}
    assert ecs.calls == [
        (
            "run_task",
            {
                "cluster": CLUSTER_ARN,
                "taskDefinition": PROPERTIES["TaskDefinition"],
                "launchType": "FARGATE",
                "platformVersion": "LATEST",
                "count": 1,
                "startedBy": handler.STARTED_BY,
                "networkConfiguration": {
                    "awsvpcConfiguration": {
                        "subnets": ["subnet-a", "subnet-b"],
                        "securityGroups": ["sg-install"],
                        "assignPublicIp": "DISABLED",
                    }
                },
            },
        )
    ]


def test_start_fails_when_ecs_cannot_place_the_task(ecs: FakeEcs) -> None:
    ecs.run_task_response = {
        "tasks": [],
        "failures": [{"arn": "arn:task-definition", "reason": "RESOURCE:MEMORY", "detail": "no capacity"}],
    }
    with pytest.raises(handler.InstallOrUpgradeError, match=r"could not start.*RESOURCE:MEMORY no capacity"):
        handler.on_event(request("Create"), None)


def test_delete_does_nothing(ecs: FakeEcs) -> None:
    event = request("Delete", PhysicalResourceId="install")

    assert handler.on_event(event, None) == {}
    assert handler.is_complete(event, None) == {"IsComplete": True}
    assert ecs.calls == []


def test_rollback_does_not_rerun_the_previous_image(ecs: FakeEcs, monkeypatch: pytest.MonkeyPatch) -> None:
    rolling_back = FakeCloudFormation("UPDATE_ROLLBACK_IN_PROGRESS")
    monkeypatch.setattr(handler, "cloudformation_client", lambda: rolling_back)
    event = request("Update", PhysicalResourceId="install", OldResourceProperties=PROPERTIES)

    assert handler.on_event(event, None) == {}
    assert handler.is_complete(event, None) == {"IsComplete": True}
    assert ecs.calls == []


@pytest.mark.parametrize("status", ["PROVISIONING", "PENDING", "RUNNING", "DEPROVISIONING"])
def test_not_complete_until_the_task_has_stopped(ecs: FakeEcs, status: str) -> None:
    assert poll(ecs, {"taskArn": TASK_ARN, "lastStatus": status, "containers": [{"name": "moodle"}]}) == {
        "IsComplete": False
    }
    assert ecs.calls == [("describe_tasks", {"cluster": CLUSTER_ARN, "tasks": [TASK_ARN]})]


def test_complete_when_the_container_exits_0(ecs: FakeEcs) -> None:
    assert poll(ecs, stopped(0, stoppedReason="Essential container in task exited")) == {"IsComplete": True}


def test_failed_upgrade_raises_with_exit_code_meaning_reason_and_logs(ecs: FakeEcs) -> None:
    with pytest.raises(handler.InstallOrUpgradeError) as failure:
        poll(ecs, stopped(5, stoppedReason="Essential container in task exited"))

    message = str(failure.value)
    assert "exited with code 5 (Moodle install or upgrade failed)" in message
    assert "stopped reason: Essential container in task exited" in message
    assert "group install-logs, stream install-or-upgrade/moodle/0123456789abcdef" in message


def test_task_stopped_without_exit_code_raises_with_the_stop_reason(ecs: FakeEcs) -> None:
    pull_failure = "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"
    task = stopped(None, stoppedReason=pull_failure, stopCode="TaskFailedToStart")
    task["containers"][0]["reason"] = "CannotPullContainerError"

    with pytest.raises(handler.InstallOrUpgradeError, match="stopped without an exit code") as failure:
        poll(ecs, task)

    assert pull_failure in str(failure.value)
    assert "stop code: TaskFailedToStart" in str(failure.value)


def test_unknown_exit_code_is_reported_as_is(ecs: FakeEcs) -> None:
    with pytest.raises(handler.InstallOrUpgradeError, match=r"exited with code 137\. "):
        poll(ecs, stopped(137, stoppedReason="OutOfMemoryError: Container killed due to memory usage"))


def test_task_unknown_to_ecs_raises(ecs: FakeEcs) -> None:
    with pytest.raises(handler.InstallOrUpgradeError, match=f"no record of {TASK_ARN}: {TASK_ARN} MISSING"):
        handler.is_complete(request("Create", Data={"TaskArn": TASK_ARN}), None)
