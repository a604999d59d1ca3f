"""Install-or-upgrade before every rollout, and cron as its own workload, in a synthesized dev stage."""

from typing import Any

import pytest

from moodle_infra import image_contract
from moodle_infra.config import EnvironmentConfig, ProjectConfig
from tests.conftest import TemplateOf

INSTALL_RESOURCE_TYPE = "Custom::MoodleInstallOrUpgrade"


@pytest.fixture(scope="module")
def dev(project_config: ProjectConfig) -> EnvironmentConfig:
    return project_config.environments["dev"]


@pytest.fixture(scope="module")
def templates(template: TemplateOf) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dev Application stack as shipped, and the same with the next image."""
    return (
        template("dev", "Application").to_json()["Resources"],
        template("dev-next-image", "Application").to_json()["Resources"],
    )


@pytest.fixture(scope="module")
def resources(templates: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    return templates[0]


def _of_type(resources: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {logical_id: r for logical_id, r in resources.items() if r["Type"] == resource_type}


def _policies(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Inline (AWS::IAM::Policy) and customer managed policies: the roles of our own constructs keep
    their permissions in managed policies (moodle_infra/managed_policy_role.py)."""
    return _of_type(resources, "AWS::IAM::Policy") | _of_type(resources, "AWS::IAM::ManagedPolicy")


def _install_resource(resources: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = _of_type(resources, INSTALL_RESOURCE_TYPE).items()
    return logical_id, resource


def _task_definition(resources: dict[str, Any], command: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = [
        (logical_id, r)
        for logical_id, r in _of_type(resources, "AWS::ECS::TaskDefinition").items()
        if r["Properties"]["ContainerDefinitions"][0]["Command"] == [command]
    ]
    return logical_id, resource["Properties"]


def _service_running(resources: dict[str, Any], task_definition_id: str) -> dict[str, Any]:
    [service] = [
        r
        for r in _of_type(resources, "AWS::ECS::Service").values()
        if r["Properties"]["TaskDefinition"] == {"Ref": task_definition_id}
    ]
    return service


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _secret_names(task_definition: dict[str, Any]) -> set[str]:
    return {secret["Name"] for secret in task_definition["ContainerDefinitions"][0]["Secrets"]}


def _handler_statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for logical_id, r in _policies(resources).items()
        if logical_id.startswith("InstallOrUpgrade")
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_install_resource_runs_the_install_task_definition(resources: dict[str, Any]) -> None:
    task_definition_id, _ = _task_definition(resources, image_contract.COMMAND_INSTALL_OR_UPGRADE)
    _, install = _install_resource(resources)

    assert install["Properties"]["TaskDefinition"] == {"Ref": task_definition_id}
    assert install["Properties"]["ContainerName"] == "moodle"


def test_a_new_image_changes_the_install_resource_so_it_runs_again(
    templates: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    current, upgraded = (_install_resource(resources)[1]["Properties"] for resources in templates)

    assert "test-tag" in str(current["Image"]) and "next-tag" in str(upgraded["Image"])
    current_task, upgraded_task = (
        _task_definition(resources, image_contract.COMMAND_INSTALL_OR_UPGRADE)[1] for resources in templates
    )
    [current_container], [upgraded_container] = (
        task["ContainerDefinitions"] for task in (current_task, upgraded_task)
    )
    assert current_container["Image"] != upgraded_container["Image"]


@pytest.mark.parametrize("command", [image_contract.COMMAND_WEB, image_contract.COMMAND_CRON])
def test_web_and_cron_roll_out_only_after_install_or_upgrade(resources: dict[str, Any], command: str) -> None:
    """They wait for the run's wait condition, which the install resource's run signals when it ends."""
    install_id, _ = _install_resource(resources)
    [(ready_id, ready)] = _of_type(resources, "AWS::CloudFormation::WaitCondition").items()
    task_definition_id, _ = _task_definition(resources, command)

    assert ready_id in _service_running(resources, task_definition_id)["DependsOn"]
    assert install_id in ready["DependsOn"]


def test_install_starts_only_once_it_may_reach_database_redis_and_efs(resources: dict[str, Any]) -> None:
    _, install = _install_resource(resources)
    [security_group] = install["Properties"]["SecurityGroups"]
    ingress_rules = {
        logical_id
        for logical_id, r in _of_type(resources, "AWS::EC2::SecurityGroupIngress").items()
        if r["Properties"].get("SourceSecurityGroupId") == security_group
    }

    assert len(ingress_rules) == 3
    assert ingress_rules <= set(install["DependsOn"])


def test_install_starts_only_once_its_roles_may_read_secrets_and_mount_efs(resources: dict[str, Any]) -> None:
    _, install = _install_resource(resources)
    _, task_definition = _task_definition(resources, image_contract.COMMAND_INSTALL_OR_UPGRADE)
    roles = [task_definition[role]["Fn::GetAtt"][0] for role in ("TaskRoleArn", "ExecutionRoleArn")]
    role_policies = {
        logical_id
        for logical_id, r in _policies(resources).items()
        if any({"Ref": role} in r["Properties"]["Roles"] for role in roles)
    }

    assert len(role_policies) == 2
    assert role_policies <= set(install["DependsOn"])


def test_only_the_install_task_gets_the_admin_and_monitoring_passwords(resources: dict[str, Any]) -> None:
    _, install = _task_definition(resources, image_contract.COMMAND_INSTALL_OR_UPGRADE)
    _, web = _task_definition(resources, image_contract.COMMAND_WEB)
    _, cron = _task_definition(resources, image_contract.COMMAND_CRON)
    install_only = {"MOODLE_ADMIN_PASSWORD", "MOODLE_MONITOR_PASSWORD"}

    assert install_only <= _secret_names(install)
    assert not install_only & (_secret_names(web) | _secret_names(cron))
    assert _secret_names(web) == _secret_names(install) - install_only


def test_cron_is_one_task_sized_from_config_that_never_overlaps(
    resources: dict[str, Any], dev: EnvironmentConfig
) -> None:
    task_definition_id, task_definition = _task_definition(resources, image_contract.COMMAND_CRON)
    service = _service_running(resources, task_definition_id)["Properties"]

    assert task_definition["Cpu"] == str(dev.cron.cpu)
    assert task_definition["Memory"] == str(dev.cron.memory_mib)
    assert service["DesiredCount"] == 1
    assert "LoadBalancers" not in service
    deployment = service["DeploymentConfiguration"]
    assert (deployment["MinimumHealthyPercent"], deployment["MaximumPercent"]) == (0, 100)
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def test_handlers_may_run_only_the_install_task_definition(resources: dict[str, Any]) -> None:
    """Both handler functions start tasks: Start the first step, Check the upgrade after the snapshot."""
    _, install_task = _task_definition(resources, image_contract.COMMAND_INSTALL_OR_UPGRADE)
    run_tasks = [s for s in _handler_statements(resources) if s["Action"] == "ecs:RunTask"]

    assert len(run_tasks) == 2
    for run_task in run_tasks:
        arn = "".join(part for part in run_task["Resource"]["Fn::Join"][1] if isinstance(part, str))
        assert arn.endswith(f":task-definition/{install_task['Family']}:*")
        assert "ecs:cluster" in run_task["Condition"]["ArnEquals"]


def test_handlers_may_pass_only_the_install_task_roles(resources: dict[str, Any]) -> None:
    _, install_task = _task_definition(resources, image_contract.COMMAND_INSTALL_OR_UPGRADE)
    pass_roles = [s for s in _handler_statements(resources) if s["Action"] == "iam:PassRole"]

    assert len(pass_roles) == 2
    for pass_role in pass_roles:
        assert sorted(pass_role["Resource"], key=str) == sorted(
            [install_task["TaskRoleArn"], install_task["ExecutionRoleArn"]], key=str
        )
        assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}


def test_no_policy_in_the_stack_allows_run_task_on_every_resource(resources: dict[str, Any]) -> None:
    for logical_id, policy in _policies(resources).items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "ecs:RunTask" in _as_list(statement["Action"]):
                assert "*" not in _as_list(statement["Resource"]), logical_id
