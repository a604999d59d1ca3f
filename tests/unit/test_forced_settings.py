"""Site settings as code: cdk.json's settings reach config.php as one JSON variable, secrets by ECS."""

import json
from dataclasses import replace
from typing import Any

from aws_cdk import App, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk.assertions import Template

from moodle_infra.config import ProjectConfig, SecretReference, SiteSettings
from moodle_infra.forced_settings import FORCED_SETTINGS_VARIABLE, forced_settings
from tests.conftest import TemplateOf

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:444444444444:secret:moodle-keys-AbCdEf"


def test_settings_become_one_json_variable_and_secrets_ecs_secrets(project_config: ProjectConfig) -> None:
    site = replace(
        project_config.environments["prod"].moodle,
        default_language="de",
        settings=SiteSettings(
            core={"forcelogin": True, "maxbytes": 104857600},
            plugins={
                "factor_sms": {"api_key": SecretReference(secret_arn=SECRET_ARN, json_key="sms")},
                "tool_x": {"token": SecretReference(secret_arn=SECRET_ARN, json_key=None), "limit": 3},
            },
        ),
    )
    stack = Stack(App(), "Settings")
    forced = forced_settings(stack, site=site)
    assert json.loads(forced.environment[FORCED_SETTINGS_VARIABLE]) == {
        "core": {"lang": "de", "forcelogin": True, "maxbytes": 104857600},
        "plugins": {
            "factor_sms": {"api_key": {"env": "MOODLE_SETTING_SECRET_1"}},
            "tool_x": {"limit": 3, "token": {"env": "MOODLE_SETTING_SECRET_2"}},
        },
    }
    assert SECRET_ARN not in forced.environment[FORCED_SETTINGS_VARIABLE]
    task = ecs.FargateTaskDefinition(stack, "Task")
    task.add_container("moodle", image=ecs.ContainerImage.from_registry("moodle"), secrets=forced.secrets)
    container = Template.from_stack(stack).to_json()["Resources"]
    definition: Any = next(r for r in container.values() if r["Type"] == "AWS::ECS::TaskDefinition")
    secrets = {
        item["Name"]: item["ValueFrom"]
        for item in definition["Properties"]["ContainerDefinitions"][0]["Secrets"]
    }
    assert secrets == {
        "MOODLE_SETTING_SECRET_1": f"{SECRET_ARN}:sms::",
        "MOODLE_SETTING_SECRET_2": SECRET_ARN,
    }


def test_every_moodle_container_gets_the_forced_settings(template: TemplateOf) -> None:
    for resource in template("dev", "Application").find_resources("AWS::ECS::TaskDefinition").values():
        for container in resource["Properties"]["ContainerDefinitions"]:
            environment = {item["Name"]: item["Value"] for item in container["Environment"]}
            assert json.loads(environment[FORCED_SETTINGS_VARIABLE]) == {
                "core": {"lang": "en"},
                "plugins": {},
            }
