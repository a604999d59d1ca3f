"""app.py: configuration is validated before anything is built; the sandbox follows the caller."""

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from app import build_app, sandbox_config
from moodle_infra.config import ConfigError, ProjectConfig


def test_bad_configuration_builds_nothing(raw_config: dict[str, Any]) -> None:
    broken = copy.deepcopy(raw_config)
    broken["environments"]["prod"]["database"]["backup_retention_days"] = 0
    broken["sandbox"]["account"] = "not-an-account"
    app = App(context={"moodle": broken})
    with pytest.raises(ConfigError) as error:
        build_app(app)
    message = str(error.value)
    assert "moodle.environments.prod.database.backup_retention_days" in message
    assert "moodle.sandbox.account" in message
    assert app.node.children == [], "no construct may exist once the configuration is known to be bad"


def test_missing_configuration_names_the_context_key() -> None:
    with pytest.raises(ConfigError, match="moodle"):
        build_app(App(context={"moodle": None}))


def test_sandbox_deploys_into_the_callers_account(
    project_config: ProjectConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "999999999999")
    assert sandbox_config(project_config).sandbox.account == "999999999999"
    monkeypatch.delenv("CDK_DEFAULT_ACCOUNT")
    assert sandbox_config(project_config).sandbox.account == project_config.sandbox.account


def test_bad_configuration_prints_only_the_problems_and_fails(raw_config: dict[str, Any]) -> None:
    """What `make synth` shows: the list of problems, no traceback, a failing exit code."""
    broken = copy.deepcopy(raw_config)
    broken["environments"]["dev"]["database"]["instance_type"] = "x9.huge"
    broken["sandbox"]["account"] = "not-an-account"
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "CDK_CONTEXT_JSON": json.dumps({"moodle": broken}), "CDK_OUTDIR": "/nonexistent"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == 'Invalid configuration in cdk.json (context key "moodle"):'
    assert [line.split(":")[0] for line in lines[1:]] == [
        "  - moodle.environments.dev.database.instance_type",
        "  - moodle.sandbox.account",
    ]
