"""The Dockerfile's release step (download, checksum, unpack, composer), run by bash on a local archive.

Docker is not available here, so the test lifts the step's RUN script out of the Dockerfile and runs it as
it is, with curl reading a file:// URL instead of download.moodle.org.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.image.image_testlib import IMAGE_DIR, require_binaries


def release_step() -> str:
    """The RUN instruction of the `moodle` stage, continuation lines joined."""
    dockerfile = (IMAGE_DIR / "Dockerfile").read_text()
    stage = dockerfile.split(" AS moodle\n", 1)[1].split("\nFROM ", 1)[0]
    run = re.search(r"^RUN (.*?[^\\])$", stage, re.MULTILINE | re.DOTALL)
    assert run, "the moodle stage has a RUN instruction"
    return run[1].replace("\\\n", "")


def composer_files(required_extension: str) -> dict[str, str]:
    platform = {"php": ">=8.2", required_extension: "*"}
    lock = {"content-hash": "", "packages": [], "packages-dev": [], "platform": platform, "platform-dev": []}
    return {"composer.json": json.dumps({"require": platform}), "composer.lock": json.dumps(lock)}


def make_release(directory: Path, files: dict[str, str]) -> Path:
    """A release archive shaped like Moodle's: everything under one top directory."""
    source = directory / "moodle"
    source.mkdir(parents=True)
    for name, content in files.items():
        (source / name).write_text(content)
    archive = directory / "moodle-5.1.6.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source, arcname="moodle")
    return archive


def run_release_step(workdir: Path, **build_args: str) -> subprocess.CompletedProcess[str]:
    require_binaries("bash", "curl", "sha256sum", "tar")
    workdir.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(workdir.parent),
        "MOODLE_VERSION": "5.1.6",
        "MOODLE_URL": "",
        "MOODLE_SHA256": "",
        **build_args,
    }
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", release_step()],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def release(tmp_path: Path) -> Path:
    files = {"version.php": "<?php $release = '5.1.6';\n", "config.php": "<?php // stale\n"}
    return make_release(tmp_path, files)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_verified_release_is_unpacked_without_a_config_php(release: Path, tmp_path: Path) -> None:
    code = tmp_path / "code"

    result = run_release_step(code, MOODLE_URL=release.as_uri(), MOODLE_SHA256=sha256(release))

    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    assert (code / "version.php").read_text().startswith("<?php")
    assert not (code / "config.php").exists()
    assert oct((code / "version.php").stat().st_mode & 0o777) == "0o644"


def test_wrong_checksum_fails_the_build(release: Path, tmp_path: Path) -> None:
    code = tmp_path / "code"

    result = run_release_step(code, MOODLE_URL=release.as_uri(), MOODLE_SHA256="0" * 64)

    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr
    assert not (code / "version.php").exists()


@pytest.mark.parametrize("checksum", ["", "not-a-checksum"])
def test_missing_checksum_fails_before_downloading(release: Path, tmp_path: Path, checksum: str) -> None:
    result = run_release_step(tmp_path / "code", MOODLE_URL=release.as_uri(), MOODLE_SHA256=checksum)

    assert result.returncode != 0
    assert "build argument MOODLE_SHA256 must be the SHA-256" in result.stderr
    assert "Downloading" not in result.stdout


def test_invalid_version_fails_the_build(release: Path, tmp_path: Path) -> None:
    result = run_release_step(tmp_path / "code", MOODLE_VERSION="", MOODLE_SHA256=sha256(release))

    assert result.returncode != 0
    assert "build argument MOODLE_VERSION must be a Moodle release" in result.stderr


def test_default_url_is_the_release_on_download_moodle_org(tmp_path: Path) -> None:
    # A curl that only reports what it was asked for: the test never leaves this machine.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "curl").write_text('#!/bin/sh\necho "curl $*" >&2\nexit 22\n')
    (fake_bin / "curl").chmod(0o755)

    result = run_release_step(
        tmp_path / "code", MOODLE_SHA256="a" * 64, PATH=f"{fake_bin}:{os.environ['PATH']}"
    )

    assert result.returncode != 0
    assert "https://download.moodle.org/download.php/direct/stable501/moodle-5.1.6.tgz" in result.stderr


def test_composer_installs_the_autoloader_and_checks_php_extensions(tmp_path: Path) -> None:
    require_binaries("composer")
    good = make_release(tmp_path / "good", composer_files("ext-json"))
    bad = make_release(tmp_path / "bad", composer_files("ext-not-in-this-php"))

    installed = run_release_step(tmp_path / "good-code", MOODLE_URL=good.as_uri(), MOODLE_SHA256=sha256(good))
    refused = run_release_step(tmp_path / "bad-code", MOODLE_URL=bad.as_uri(), MOODLE_SHA256=sha256(bad))

    assert installed.returncode == 0, installed.stderr
    assert (tmp_path / "good-code" / "vendor" / "autoload.php").exists()
    assert refused.returncode != 0
    assert "ext-not-in-this-php" in refused.stderr
