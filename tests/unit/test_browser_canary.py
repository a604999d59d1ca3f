"""The browser journey's canary, its alarm and bucket, and the monitoring user's secret (docs/JOURNEY.md)."""

import ast
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, DockerImage
from aws_cdk.assertions import Match, Template

from moodle_infra.browser_canary.construct import HANDLER, RUNTIME, _CopyJourney
from moodle_infra.config import ProjectConfig
from stages.moodle_stage import MoodleStage
from tests.conftest import TEST_IMAGE, TemplateOf


def _one(template: Template, resource_type: str, prefix: str = "") -> tuple[str, Any]:
    found = [(lid, r) for lid, r in template.find_resources(resource_type).items() if lid.startswith(prefix)]
    assert len(found) == 1, [lid for lid, _ in found]
    return found[0]


def test_the_canary_runs_the_journey_through_cloudfront_every_five_minutes(template: TemplateOf) -> None:
    _, canary = _one(template("prod", "Application"), "AWS::Synthetics::Canary")
    properties = canary["Properties"]

    assert properties["Name"] == "moodle-prod-journey"
    assert properties["RuntimeVersion"] == "syn-python-selenium-14.0" == RUNTIME.name
    assert properties["Code"]["Handler"] == HANDLER
    assert properties["Schedule"]["Expression"] == "rate(5 minutes)"
    assert properties["StartCanaryAfterCreation"] is True
    assert "VPCConfig" not in properties, "it goes through CloudFront and the WAF, like a student"
    run = properties["RunConfig"]
    assert run["TimeoutInSeconds"] == 300
    variables = run["EnvironmentVariables"]
    assert "EdgeDistribution" in json.dumps(variables["JOURNEY_URL"])
    assert (variables["JOURNEY_USERNAME"], variables["JOURNEY_COURSE"]) == ("monitor", "monitoring")
    assert "MonitoringUserPassword" in json.dumps(variables["JOURNEY_SECRET_ARN"])
    assert json.loads(variables["JOURNEY_BUDGETS"]) == {
        "login_page": 20, "log_in": 15, "dashboard": 15, "course": 10, "ajax_call": 5, "api_route": 5,
    }  # fmt: skip
    assert not any("PASSWORD" in name for name in variables), "the password is read at run time"
    assert (properties["SuccessRetentionPeriod"], properties["FailureRetentionPeriod"]) == (14, 14)


def test_failed_runs_alarm_on_the_environment_topic(template: TemplateOf) -> None:
    _, alarm = _one(template("prod", "Application"), "AWS::CloudWatch::Alarm", "BrowserCanaryFailedRuns")
    properties = alarm["Properties"]

    assert (properties["Namespace"], properties["MetricName"]) == ("CloudWatchSynthetics", "SuccessPercent")
    assert (properties["Threshold"], properties["ComparisonOperator"]) == (100, "LessThanThreshold")
    assert (properties["EvaluationPeriods"], properties["DatapointsToAlarm"], properties["Period"]) == (
        2,
        2,
        300,
    )
    assert properties["TreatMissingData"] == "breaching", "a canary that stopped running watches nothing"
    assert "NotificationsTopic" in json.dumps(properties["AlarmActions"])
    assert "NotificationsTopic" in json.dumps(properties["OKActions"])


def test_the_artifacts_bucket_is_private_encrypted_logged_and_expires_runs(template: TemplateOf) -> None:
    application = template("prod", "Application")
    logical_id, bucket = _one(application, "AWS::S3::Bucket", "BrowserCanaryArtifacts")
    properties = bucket["Properties"]

    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True,
        "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }  # fmt: skip
    [rule] = properties["LifecycleConfiguration"]["Rules"]
    assert (rule["Status"], rule["ExpirationInDays"]) == ("Enabled", 14)
    assert "AccessLogs" in json.dumps(properties["LoggingConfiguration"])
    _, canary = _one(application, "AWS::Synthetics::Canary")
    assert logical_id in json.dumps(canary["Properties"]["ArtifactS3Location"])
    application.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": logical_id},
            "PolicyDocument": Match.object_like(
                {
                    "Statement": Match.array_with(
                        [
                            Match.object_like(
                                {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                            )
                        ]
                    )
                }
            ),
        },
    )


def test_only_the_canary_and_the_installer_may_read_the_password(template: TemplateOf) -> None:
    application = template("prod", "Application")
    _, policy = _one(application, "AWS::SecretsManager::ResourcePolicy", "MonitoringUser")
    [statement] = policy["Properties"]["ResourcePolicy"]["Statement"]

    assert (statement["Effect"], statement["Action"], statement["Principal"]) == (
        "Deny", "secretsmanager:GetSecretValue", {"AWS": "*"},
    )  # fmt: skip
    readers = [
        reader["Fn::GetAtt"][0] for reader in statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    ]
    _, canary = _one(application, "AWS::Synthetics::Canary")
    assert readers == [
        canary["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0],
        "InstallOrUpgradeTaskExecutionRoleEB691A21",
    ]
    policies = application.find_resources(
        "AWS::IAM::ManagedPolicy", {"Properties": {"Roles": [{"Ref": readers[0]}]}}
    )
    assert "secretsmanager:GetSecretValue" in json.dumps(policies), (
        "the canary's own role is granted the read"
    )


def _container_secrets(template: Template, family_prefix: str) -> set[str]:
    found = [
        definition for lid, definition in template.find_resources("AWS::ECS::TaskDefinition").items()
        if lid.startswith(family_prefix)
    ]  # fmt: skip
    assert len(found) == 1
    [container] = found[0]["Properties"]["ContainerDefinitions"]
    return {secret["Name"] for secret in container.get("Secrets", [])}


def test_only_install_or_upgrade_gets_the_password(template: TemplateOf) -> None:
    application = template("prod", "Application")

    assert "MOODLE_MONITOR_PASSWORD" in _container_secrets(application, "InstallOrUpgrade")
    assert "MOODLE_MONITOR_PASSWORD" not in _container_secrets(application, "Web")
    assert "MOODLE_MONITOR_PASSWORD" not in _container_secrets(application, "Cron")


def test_an_environment_without_the_canary_has_no_canary_secret_or_monitoring_user(
    project_config: ProjectConfig,
) -> None:
    dev = project_config.environments["dev"]
    config = replace(dev, canary=replace(dev.canary, enabled=False))
    stage = MoodleStage(App(), "NoCanary", config=config, image=TEST_IMAGE)
    application = Template.from_stack(stage.application)

    application.resource_count_is("AWS::Synthetics::Canary", 0)
    application.resource_count_is("AWS::SecretsManager::ResourcePolicy", 0)
    assert "MOODLE_MONITOR" not in json.dumps(application.find_resources("AWS::ECS::TaskDefinition"))
    assert stage.canary_name is None


# --- The code bundle ----------------------------------------------------------------------------------

RUNTIME_MODULES = {"selenium", "boto3", "aws_synthetics", "journey", "smoke"}
"""What the Synthetics Python runtime provides, plus the bundled packages."""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("canary-bundle")
    assert _CopyJourney().try_bundle(str(output), image=DockerImage.from_registry("unused"))
    return output / "python"


def test_the_bundle_has_the_handler_and_the_journey_under_python(bundle: Path) -> None:
    assert (bundle / f"{HANDLER.split('.')[0]}.py").is_file()
    for module in ("journey/steps.py", "journey/runner.py", "journey/browser.py", "smoke/report.py"):
        assert (bundle / module).is_file(), module
    assert not list(bundle.rglob("__pycache__"))


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and not node.level
    }
    return {name.split(".")[0] for name in names}


def test_the_bundle_imports_only_what_the_runtime_has(bundle: Path) -> None:
    """A module the runtime lacks (a PyPI package of this repo, say) would fail every run at import."""
    handler = bundle / "journey_canary.py"
    reached = _imported(handler) | set().union(
        *(_imported(path) for path in (bundle / "journey").glob("*.py"))
    )
    reached |= _imported(bundle / "smoke" / "report.py")
    outside = {name for name in reached if name not in sys.stdlib_module_names and name != "__future__"}
    assert outside <= RUNTIME_MODULES, outside - RUNTIME_MODULES
