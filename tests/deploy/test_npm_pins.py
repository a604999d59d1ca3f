"""Rule npm-pins (issue 17 item 3): no CodeBuild step installs an npm package without an exact version;
the asset publishing steps install the cdk-assets that package.json pins."""

import json
from typing import Any

import pytest

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.codebuild_node_runtime import build_spec, commands
from compliance.deploy_rules.npm_pins import RULE, unpinned
from pipeline.pipeline_stack import pinned_npm_version
from tests.deploy.conftest import broken, find


def test_asset_publishing_installs_the_pinned_cdk_assets(shipped_templates: list[StackTemplate]) -> None:
    pipeline = find(shipped_templates, "MoodlePipeline")
    installs = [
        command
        for _, resource in pipeline.resources("AWS::CodeBuild::Project")
        for command in commands(build_spec(pipeline, resource["Properties"]["Source"]["BuildSpec"]) or {})
        if "npm install" in command
    ]
    assert f"npm install -g cdk-assets@{pinned_npm_version('cdk-assets')}" in installs
    assert not any("@latest" in command for command in installs)
    assert not RULE.violations(shipped_templates)


@pytest.mark.parametrize(
    ("command", "found"),
    [
        ("npm install -g cdk-assets@latest", ["cdk-assets@latest"]),
        ("npm i -g aws-cdk", ["aws-cdk"]),
        ("npm install -g @scope/tool@^1.2.0 other@1.0.0", ["@scope/tool@^1.2.0"]),
        ("npm install", ["npm install without packages (use npm ci, which installs package-lock.json)"]),
        ("npm install -g aws-cdk@2.1148.1 && npm ci", []),
        ("make install", []),
    ],
)
def test_unpinned_packages_are_named(command: str, found: list[str]) -> None:
    assert unpinned(command) == found


def _latest_assets(body: dict[str, Any]) -> None:
    """The asset step as CDK Pipelines writes it by default, inline instead of in its side file."""
    for logical_id, resource in body["Resources"].items():
        if resource["Type"] == "AWS::CodeBuild::Project" and "FileAsset" in logical_id:
            resource["Properties"]["Source"]["BuildSpec"] = json.dumps(
                {"version": "0.2", "phases": {"install": {"commands": ["npm install -g cdk-assets@latest"]}}}
            )


def test_catches_the_latest_cdk_assets(shipped_templates: list[StackTemplate]) -> None:
    violations = RULE.violations([broken(find(shipped_templates, "MoodlePipeline"), _latest_assets)])
    assert len(violations) == 1
    assert "FileAsset" in violations[0].resource
    assert violations[0].message == "installs cdk-assets@latest without an exact version"


def test_package_json_pins_exact_versions(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """A range in package.json would make the pipeline's install move: refused at synthesis."""
    from pipeline import pipeline_stack

    package = tmp_path / "package.json"
    package.write_text(json.dumps({"devDependencies": {"cdk-assets": "^4.7.3"}}))
    monkeypatch.setattr(pipeline_stack, "PACKAGE_JSON", package)
    with pytest.raises(
        ValueError, match=r"devDependencies.cdk-assets must be an exact version, got '\^4.7.3'"
    ):
        pinned_npm_version("cdk-assets")
