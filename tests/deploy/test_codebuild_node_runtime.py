"""Rule codebuild-node-runtime (issue 10 item 4): every CodeBuild step that runs the CDK CLI, cdk-assets
or npm names a Node.js that is not past its end of life."""

import datetime
import json

import pytest

from compliance.deploy_rules import StackTemplate, codebuild_node_runtime
from compliance.deploy_rules.codebuild_node_runtime import RULE, build_spec, commands
from pipeline.node_runtime import CODEBUILD_NODEJS
from tests.deploy.conftest import broken, find


def _projects(template: StackTemplate) -> dict[str, dict]:
    return {
        logical_id: build_spec(template, resource["Properties"]["Source"]["BuildSpec"]) or {}
        for logical_id, resource in template.resources("AWS::CodeBuild::Project")
    }


def test_synth_self_mutation_and_asset_publishing_pin_node(shipped_templates: list[StackTemplate]) -> None:
    projects = _projects(find(shipped_templates, "MoodlePipeline"))
    running_cli = {
        logical_id: spec
        for logical_id, spec in projects.items()
        if any(word in " ".join(commands(spec)) for word in ("cdk -a", "cdk-assets", "make synth"))
    }
    assert {"Synth", "SelfMutation", "FileAsset"} <= {
        kind
        for kind in ("Synth", "SelfMutation", "FileAsset")
        for logical_id in running_cli
        if kind in logical_id
    }
    for spec in running_cli.values():
        assert spec["phases"]["install"]["runtime-versions"]["nodejs"] == CODEBUILD_NODEJS


def _without_node(body: dict) -> None:
    for resource in body["Resources"].values():
        if resource["Type"] == "AWS::CodeBuild::Project" and "SelfMutation" in json.dumps(resource):
            resource["Properties"]["Source"]["BuildSpec"] = json.dumps(
                {"version": "0.2", "phases": {"build": {"commands": ["npx cdk deploy"]}}}
            )


def test_catches_a_cli_step_on_the_images_default_node(shipped_templates: list[StackTemplate]) -> None:
    violations = RULE.violations([broken(find(shipped_templates, "MoodlePipeline"), _without_node)])
    assert len(violations) == 1
    assert "SelfMutation" in violations[0].resource
    assert "without runtime-versions.nodejs" in violations[0].message


def test_catches_a_node_line_past_its_end_of_life(
    shipped_templates: list[StackTemplate], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pinned line is refused the day it reaches end of life, so moving on is never forgotten."""
    end = codebuild_node_runtime.NODE_END_OF_LIFE[CODEBUILD_NODEJS]
    pipeline = find(shipped_templates, "MoodlePipeline")
    monkeypatch.setattr(codebuild_node_runtime, "today", lambda: end - datetime.timedelta(days=1))
    assert not RULE.violations([pipeline])
    monkeypatch.setattr(codebuild_node_runtime, "today", lambda: end)
    violations = RULE.violations([pipeline])
    assert violations and all("reached its end of life" in v.message for v in violations)
