"""Removing a plugin from the image: cdk.json's moodle.uninstall_plugins, validated and handed to the
install-or-upgrade task only (docs/UPGRADES.md, "Removing a plugin")."""

import copy
import json
from dataclasses import replace
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from moodle_infra import image_contract
from moodle_infra.config import ConfigError, ProjectConfig, load_config
from stages.moodle_stage import MoodleStage
from tests.conftest import TEST_IMAGE, TemplateOf

VARIABLE = "MOODLE_UNINSTALL_PLUGINS"


def errors_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(raw)
    return raised.value.errors


def test_the_list_is_merged_over_the_defaults_and_empty_by_default(raw_config: dict[str, Any]) -> None:
    raw = copy.deepcopy(raw_config)
    raw["environment_defaults"]["moodle"]["uninstall_plugins"] = ["mod_customcert", "block_old"]
    raw["environments"]["dev"]["moodle"] = {"uninstall_plugins": []}

    config = load_config(raw)

    assert config.environments["prod"].moodle.uninstall_plugins == ("mod_customcert", "block_old")
    assert config.environments["dev"].moodle.uninstall_plugins == ()
    assert load_config(raw_config).environments["prod"].moodle.uninstall_plugins == ()


@pytest.mark.parametrize(
    "value", [["Mod Custom"], ["mod_customcert", "mod_customcert"], "mod_customcert", [1], ["customcert"]]
)
def test_anything_but_a_list_of_component_names_is_refused(raw_config: dict[str, Any], value: object) -> None:
    raw = copy.deepcopy(raw_config)
    raw["environments"]["staging"]["moodle"] = {"uninstall_plugins": value}

    assert errors_of(raw) == [
        "moodle.environments.staging.moodle.uninstall_plugins: must be a list of plugin component names, "
        f'each once, like ["mod_customcert"], got {json.dumps(value)}'
    ]


def test_a_plugin_built_into_the_image_cannot_be_uninstalled(raw_config: dict[str, Any]) -> None:
    raw = copy.deepcopy(raw_config)
    raw["moodle_release"]["plugins"] = [
        {"component": "mod_customcert", "url": "https://example.com/customcert.zip", "sha256": "a" * 64}
    ]
    raw["environments"]["prod"]["moodle"] = {"uninstall_plugins": ["mod_customcert"]}

    assert errors_of(raw) == [
        'moodle.environments.prod.moodle.uninstall_plugins: "mod_customcert" is built into the image '
        "(moodle.moodle_release.plugins); remove it from one of the two lists"
    ]


def environments_by_command(stack: Stack) -> dict[str, dict[str, str]]:
    definitions = Template.from_stack(stack).find_resources("AWS::ECS::TaskDefinition").values()
    return {
        container["Command"][0]: {item["Name"]: item["Value"] for item in container["Environment"]}
        for definition in definitions
        for container in definition["Properties"]["ContainerDefinitions"]
    }


def test_only_install_or_upgrade_is_told_which_plugins_to_uninstall(project_config: ProjectConfig) -> None:
    dev = project_config.environments["dev"]
    config = replace(dev, moodle=replace(dev.moodle, uninstall_plugins=("mod_customcert", "block_old")))
    stage = MoodleStage(App(), "Dev", config=config, image=TEST_IMAGE)
    application = stage.node.find_child("Application")
    assert isinstance(application, Stack)

    environments = environments_by_command(application)

    assert environments[image_contract.COMMAND_INSTALL_OR_UPGRADE][VARIABLE] == "mod_customcert,block_old"
    assert VARIABLE not in environments[image_contract.COMMAND_WEB]
    assert VARIABLE not in environments[image_contract.COMMAND_CRON]


def test_without_plugins_to_uninstall_no_task_gets_the_variable(template: TemplateOf) -> None:
    for resource in template("dev", "Application").find_resources("AWS::ECS::TaskDefinition").values():
        for container in resource["Properties"]["ContainerDefinitions"]:
            assert VARIABLE not in {item["Name"] for item in container["Environment"]}
