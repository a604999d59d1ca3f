"""Safe upgrades in the synthesized templates (docs/UPGRADES.md): snapshot settings, the order that keeps
the previous image off an upgraded schema during a rollback, the alarm, and no cached maintenance page."""

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from moodle_infra import image_contract
from moodle_infra.config import UPGRADE_TIMEOUT_MINUTES, EnvironmentConfig, ProjectConfig, UpgradeConfig
from moodle_infra.install_upgrade import handler
from moodle_infra.install_upgrade.construct import MAINTENANCE_METRIC, UPGRADE_MARGIN
from moodle_infra.install_upgrade.rollout_gate import WAIT_CONDITION_LIMIT
from moodle_infra.moodle_image import EcrImage
from stages.moodle_stage import MoodleStage
from tests.conftest import ROOT, TEST_IMAGE, TemplateOf
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
    ready_id, _ = _one(prod, "AWS::CloudFormation::WaitCondition")
    cron = prod[_service_with_command(prod, image_contract.COMMAND_CRON)]

    assert {finish_id, ready_id} <= set(cron["DependsOn"])


def test_finish_runs_the_new_task_definition_and_knows_whether_the_deploy_upgraded(
    prod: dict[str, Any],
) -> None:
    _, install = _one(prod, "Custom::MoodleInstallOrUpgrade")
    ready_id, _ = _one(prod, "AWS::CloudFormation::WaitCondition")
    _, finish = _one(prod, "Custom::MoodleUpgradeFinish")

    assert install["Properties"]["Step"] == handler.INSTALL_OR_UPGRADE
    assert finish["Properties"]["Step"] == handler.FINISH
    assert finish["Properties"]["TaskDefinition"] == install["Properties"]["TaskDefinition"]
    # What the run signalled (handler.outcome reads it), so a rollback knows whether it upgraded.
    assert finish["Properties"]["Upgrade"] == {"Fn::GetAtt": [ready_id, "Data"]}
    assert finish["Properties"]["ServiceToken"] == install["Properties"]["ServiceToken"]


def test_the_web_service_waits_for_the_runs_wait_condition_as_long_as_configured(
    prod: dict[str, Any],
) -> None:
    """The custom resource only starts the run; the wait condition, signalled by the workflow through
    the handle the run is given, is what the web service waits for: up to upgrade.timeout_minutes plus
    30 minutes, so the workflow's own failure signal (with its reason) comes first."""
    install_id, install = _one(prod, "Custom::MoodleInstallOrUpgrade")
    ready_id, ready = _one(prod, "AWS::CloudFormation::WaitCondition")
    handle_id, _ = _one(prod, "AWS::CloudFormation::WaitConditionHandle")
    web = prod[_service_with_command(prod, image_contract.COMMAND_WEB)]
    [(workflow_id, workflow)] = [
        (logical_id, r)
        for logical_id, r in _of_type(prod, "AWS::StepFunctions::StateMachine").items()
        if logical_id.startswith("InstallOrUpgradeWorkflow")
    ]

    assert ready_id in web["DependsOn"]
    assert ready["DependsOn"] == [install_id]
    assert ready["Properties"] == {"Count": 1, "Handle": {"Ref": handle_id}, "Timeout": str((480 + 30) * 60)}
    assert install["Properties"]["Handle"] == {"Ref": handle_id}
    assert install["Properties"]["Workflow"] == {"Ref": workflow_id}
    assert install["Properties"]["TimeoutMinutes"] == "480"
    assert int(install["Properties"]["ServiceTimeout"]) <= 3600
    # The workflow outlives the handler's own limit (it gives up first, with a reason) by 15 minutes.
    definition = workflow["Properties"]["DefinitionString"]
    assert f'"TimeoutSeconds":{(480 + 15) * 60}' in "".join(
        part if isinstance(part, str) else "" for part in definition["Fn::Join"][1]
    )


def _ready_id(config: EnvironmentConfig, image: EcrImage) -> str:
    """The wait condition's logical ID in a fresh synthesis of one environment."""
    stage = MoodleStage(App(), "Dev", config=config, image=image)
    resources = Template.from_stack(stage.node.find_child("Application")).to_json()["Resources"]  # type: ignore[arg-type]
    ready_id, _ = _one(resources, "AWS::CloudFormation::WaitCondition")
    return ready_id


def test_every_run_gets_a_new_wait_condition_and_an_unchanged_app_none(project_config: ProjectConfig) -> None:
    """A wait condition cannot be updated and counts old signals again: a new image, new settings or a new
    time limit is a new run with a new handle and wait condition; the same app gives the same IDs, so an
    unchanged deploy runs nothing."""
    dev = project_config.environments["dev"]
    shipped = _ready_id(dev, TEST_IMAGE)
    assert _ready_id(dev, TEST_IMAGE) == shipped
    other_settings = replace(dev, moodle=replace(dev.moodle, site_full_name="Another name"))
    changed = {
        _ready_id(dev, replace(TEST_IMAGE, tag="next-tag")),
        _ready_id(other_settings, TEST_IMAGE),
        _ready_id(replace(dev, upgrade=UpgradeConfig(timeout_minutes=600)), TEST_IMAGE),
    }
    assert len(changed) == 3 and shipped not in changed
    assert re.fullmatch(r"InstallOrUpgradeReady[0-9A-F]{16}", shipped)


def test_the_longest_allowed_upgrade_fits_a_wait_condition() -> None:
    longest = UPGRADE_TIMEOUT_MINUTES[1] * 60 + UPGRADE_MARGIN.to_seconds()
    assert longest == WAIT_CONDITION_LIMIT.to_seconds() == 43200


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
    assert install["Properties"]["TimeoutMinutes"] == "480"
    # The database instance of the environment's Data stack, resolved at deploy time.
    assert isinstance(snapshot["DatabaseInstance"], dict)


def _check_statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for logical_id, r in _of_type(resources, "AWS::IAM::ManagedPolicy").items()
        if logical_id.startswith("InstallOrUpgradeAdvanceRole")
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
    """The task logs when it leaves the page on or lifts it; a task stopped by a timeout or by a later
    deploy cannot, so the functions that stop it log their own line."""
    filters = sorted(
        (
            r["Properties"]["LogGroupName"]["Ref"].rsplit("Logs", 1)[0],
            r["Properties"]["FilterPattern"],
            r["Properties"]["MetricTransformations"][0]["MetricValue"],
        )
        for r in _of_type(prod, "AWS::Logs::MetricFilter").values()
        if r["Properties"]["MetricTransformations"][0]["MetricName"] == MAINTENANCE_METRIC
    )
    [alarm] = [
        r["Properties"]
        for r in _of_type(prod, "AWS::CloudWatch::Alarm").values()
        if r["Properties"].get("MetricName") == MAINTENANCE_METRIC
    ]

    assert filters == [
        ("InstallOrUpgradeAdvance", f'"{handler.UPGRADE_TASK_STOPPED}"', "1"),
        ("InstallOrUpgradeStart", f'"{handler.UPGRADE_TASK_STOPPED}"', "1"),
        ("InstallOrUpgradeTask", f'"{handler.MAINTENANCE_LEFT_ON}"', "1"),
        ("InstallOrUpgradeTask", f'"{handler.MAINTENANCE_LIFTED}"', "0"),
    ]
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
