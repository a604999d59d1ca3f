"""Safe upgrades in the synthesized templates (docs/UPGRADES.md): snapshot settings, the order that keeps
the previous image off an upgraded schema during a rollback, the alarm, and no cached maintenance page."""

import re
from pathlib import Path
from typing import Any

import pytest

from moodle_infra import image_contract
from moodle_infra.install_upgrade import handler
from moodle_infra.install_upgrade.construct import MAINTENANCE_METRIC
from tests.conftest import ROOT, TemplateOf
from tests.image.errors_testlib import exit_codes_with_includes

INSTALL_OR_UPGRADE_PHP = ROOT / "image" / "bin" / "install-or-upgrade.php"


def _of_type(resources: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {logical_id: r for logical_id, r in resources.items() if r["Type"] == resource_type}


def _one(resources: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = _of_type(resources, resource_type).items()
    return logical_id, resource


def _service_with_command(resources: dict[str, Any], command: str) -> str:
    [task_definition] = [
        logical_id
        for logical_id, r in _of_type(resources, "AWS::ECS::TaskDefinition").items()
        if r["Properties"]["ContainerDefinitions"][0]["Command"] == [command]
    ]
    [service] = [
        logical_id
        for logical_id, r in _of_type(resources, "AWS::ECS::Service").items()
        if r["Properties"]["TaskDefinition"] == {"Ref": task_definition}
    ]
    return service


@pytest.fixture(scope="module")
def prod(template: TemplateOf) -> dict[str, Any]:
    resources: dict[str, Any] = template("prod", "Application").to_json()["Resources"]
    return resources


def test_finish_runs_only_after_the_web_service_rolled_out_so_a_rollback_reaches_it_first(
    prod: dict[str, Any],
) -> None:
    """CloudFormation rolls back in reverse dependency order: the finish resource, which puts the
    maintenance page back after an upgrade, before the web service brings the previous image back."""
    _, finish = _one(prod, "Custom::MoodleUpgradeFinish")

    assert _service_with_command(prod, image_contract.COMMAND_WEB) in finish["DependsOn"]


def test_cron_rolls_out_only_once_the_maintenance_page_is_lifted(prod: dict[str, Any]) -> None:
    """Moodle's cron exits at once in maintenance ("CLI maintenance mode active, cron execution
    suspended"): new cron tasks started before finish would never become stable."""
    finish_id, _ = _one(prod, "Custom::MoodleUpgradeFinish")
    install_id, _ = _one(prod, "Custom::MoodleInstallOrUpgrade")
    cron = prod[_service_with_command(prod, image_contract.COMMAND_CRON)]

    assert {finish_id, install_id} <= set(cron["DependsOn"])


def test_finish_runs_the_new_task_definition_and_knows_whether_the_deploy_upgraded(
    prod: dict[str, Any],
) -> None:
    install_id, install = _one(prod, "Custom::MoodleInstallOrUpgrade")
    _, finish = _one(prod, "Custom::MoodleUpgradeFinish")

    assert install["Properties"]["Step"] == handler.INSTALL_OR_UPGRADE
    assert finish["Properties"]["Step"] == handler.FINISH
    assert finish["Properties"]["TaskDefinition"] == install["Properties"]["TaskDefinition"]
    assert finish["Properties"]["Upgraded"] == {"Fn::GetAtt": [install_id, "Upgraded"]}
    assert finish["Properties"]["ServiceToken"] == install["Properties"]["ServiceToken"]


def test_web_tasks_in_maintenance_stay_healthy(prod: dict[str, Any]) -> None:
    """The ALB checks /healthz, which never reaches Moodle: tasks answering the maintenance page stay in
    service, instead of being replaced in a loop by ECS."""
    [target_group] = _of_type(prod, "AWS::ElasticLoadBalancingV2::TargetGroup").values()

    assert target_group["Properties"]["HealthCheckPath"] == image_contract.HEALTH_CHECK_PATH


@pytest.mark.parametrize(
    ("environment", "enabled"), [("dev", "false"), ("staging", "true"), ("prod", "true")]
)
def test_upgrade_snapshots_per_environment(template: TemplateOf, environment: str, enabled: str) -> None:
    resources = template(environment, "Application").to_json()["Resources"]
    _, install = _one(resources, "Custom::MoodleInstallOrUpgrade")
    snapshot = install["Properties"]["Snapshot"]

    assert snapshot["Enabled"] == enabled
    assert (snapshot["Environment"], snapshot["Keep"], snapshot["TimeoutMinutes"]) == (environment, "3", "30")
    # The database instance of the environment's Data stack, resolved at deploy time.
    assert isinstance(snapshot["DatabaseInstance"], dict)


def _check_statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for logical_id, r in _of_type(resources, "AWS::IAM::ManagedPolicy").items()
        if logical_id.startswith("InstallOrUpgradeCheckRole")
        for statement in r["Properties"]["PolicyDocument"]["Statement"]
    ]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _arn_text(resource: Any) -> str:
    """An ARN built with Fn::Join, with its tokens left out: enough to see what it names."""
    if isinstance(resource, dict) and "Fn::Join" in resource:
        return "".join(part if isinstance(part, str) else "<token>" for part in resource["Fn::Join"][1])
    return str(resource)


def test_the_handler_may_create_and_delete_only_upgrade_snapshots_of_this_database(
    prod: dict[str, Any],
) -> None:
    rds = {
        action: [_arn_text(resource) for resource in _as_list(statement["Resource"])]
        for statement in _check_statements(prod)
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        if action.startswith("rds:")
    }

    assert sorted(rds) == [
        "rds:AddTagsToResource",
        "rds:CreateDBSnapshot",
        "rds:DeleteDBSnapshot",
        "rds:DescribeDBSnapshots",
    ]
    upgrade_snapshots = f":snapshot:{handler.snapshot_prefix('prod')}*"
    assert [arn.endswith(upgrade_snapshots) for arn in rds["rds:DeleteDBSnapshot"]] == [True]
    assert [arn.endswith(upgrade_snapshots) for arn in rds["rds:AddTagsToResource"]] == [True]
    assert sorted(re.sub(r".*:(db|snapshot):", r"\1:", arn) for arn in rds["rds:CreateDBSnapshot"]) == [
        "db:<token>",
        f"snapshot:{handler.snapshot_prefix('prod')}*",
    ]


def test_an_alarm_stays_on_while_a_failure_or_rollback_leaves_the_maintenance_page_up(
    prod: dict[str, Any],
) -> None:
    task_log_groups = {
        logical_id
        for logical_id in _of_type(prod, "AWS::Logs::LogGroup")
        if logical_id.startswith("InstallOrUpgradeTaskLogs")
    }
    filters = {
        r["Properties"]["FilterPattern"]: r["Properties"]
        for r in _of_type(prod, "AWS::Logs::MetricFilter").values()
        if r["Properties"]["MetricTransformations"][0]["MetricName"] == MAINTENANCE_METRIC
    }
    [alarm] = [
        r["Properties"]
        for r in _of_type(prod, "AWS::CloudWatch::Alarm").values()
        if r["Properties"].get("MetricName") == MAINTENANCE_METRIC
    ]

    assert {pattern: f["MetricTransformations"][0]["MetricValue"] for pattern, f in filters.items()} == {
        f'"{handler.MAINTENANCE_LEFT_ON}"': "1",
        f'"{handler.MAINTENANCE_LIFTED}"': "0",
    }
    assert all(f["LogGroupName"] == {"Ref": group} for f in filters.values() for group in task_log_groups)
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Maximum",
        1,
        "GreaterThanOrEqualToThreshold",
    )
    # Missing data keeps the state: ALARM until finish logs the lift, not just for one minute.
    assert alarm["TreatMissingData"] == "ignore"
    assert alarm["AlarmActions"] and alarm["OKActions"] == alarm["AlarmActions"]


def test_cloudfront_does_not_cache_the_maintenance_page(prod: dict[str, Any]) -> None:
    """CloudFront ignores no-store on a 503 and caches it for 10 s unless told otherwise."""
    [distribution] = _of_type(prod, "AWS::CloudFront::Distribution").values()

    assert distribution["Properties"]["DistributionConfig"]["CustomErrorResponses"] == [
        {"ErrorCode": 503, "ErrorCachingMinTTL": 0}
    ]


def _php_constant(source: str, name: str) -> str:
    match = re.search(rf"^const {name} = '([^']*)';$", source, re.MULTILINE)
    assert match, f"{INSTALL_OR_UPGRADE_PHP.name} defines {name}"
    return match[1]


def test_the_handler_and_the_image_agree_on_steps_log_lines_and_exit_codes() -> None:
    source = Path(INSTALL_OR_UPGRADE_PHP).read_text()

    assert f"getenv('{handler.STEP_VARIABLE}')" in source
    assert _php_constant(source, "MAINTENANCE_LEFT_ON") == handler.MAINTENANCE_LEFT_ON
    assert _php_constant(source, "MAINTENANCE_LIFTED") == handler.MAINTENANCE_LIFTED
    assert handler.PLAN_LINE.pattern.startswith(
        "^install-or-upgrade: " + _php_constant(source, "PLAN_PREFIX")
    )
    assert handler.RELEASE_LINE.pattern.startswith(
        "^install-or-upgrade: " + _php_constant(source, "RELEASE_PREFIX")
    )
    for step in ("plan", "upgrade", "finish", "hold"):
        assert _php_constant(source, f"STEP_{step.upper()}") == step
    # With the codes of the files it includes (cli-errors.php: 1, an unexpected failure).
    exit_codes = exit_codes_with_includes(Path(INSTALL_OR_UPGRADE_PHP)) - {0}
    assert exit_codes == set(handler.EXIT_CODE_MEANINGS)
