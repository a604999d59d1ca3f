"""Helpers of the image tests: exit codes, Redis and the task's variables.

The image itself is built and run by the container harness (container.py), MySQL in a container of its own
(mysql_server.py); Redis runs on the host's loopback (Debian's package, installed by .ci/run). Containers
on the host network reach both on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from moodle_infra import image_contract
from tests.image.container import REPO_ROOT
from tests.image.mysql_server import DB_PASSWORD as DB_PASSWORD  # re-exported: the tests log in with them
from tests.image.mysql_server import DB_USER as DB_USER

IMAGE_DIR = REPO_ROOT / "image"
FAKE_MOODLE_DIR = Path(__file__).resolve().parent / "fake_moodle"

# Exit codes of the entrypoint and install-or-upgrade (docs/IMAGE.md).
EXIT_CONFIG = 2
EXIT_DATABASE_TIMEOUT = 3
EXIT_LOCK_TIMEOUT = 4
EXIT_INSTALL_OR_UPGRADE_FAILED = 5
EXIT_CACHE_SETUP_FAILED = 6
EXIT_DATAROOT_NOT_WRITABLE = 7
EXIT_DATAROOT_NOT_PREPARED = 8
EXIT_UNFINISHED_INSTALL_HOLDS_DATA = 9
EXIT_UPGRADE_STILL_PENDING = 10
EXIT_UNKNOWN_SETTINGS = 11
EXIT_MISSING_PLUGINS = 12


def require_binaries(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (installed by .ci/run from .ci/system-packages.txt)")


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout} s")
        time.sleep(0.05)


def make_runtime_dir(path: Path) -> Path:
    """A directory the image's runtime user can write, like the EFS access point."""
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, image_contract.RUNTIME_UID, image_contract.RUNTIME_GID)
    return path


def moodle_env(**overrides: str) -> dict[str, str]:
    """The variables the ECS task definition sets, pointing at the local services."""
    env = {
        "MOODLE_WWWROOT": f"http://127.0.0.1:{image_contract.CONTAINER_PORT}",
        "MOODLE_DB_TYPE": "mysqli",
        "MOODLE_DB_HOST": "127.0.0.1",
        "MOODLE_DB_PORT": "3306",
        "MOODLE_DB_NAME": "moodle",
        "MOODLE_DB_USER": DB_USER,
        "MOODLE_DB_PASSWORD": DB_PASSWORD,
        "MOODLE_REDIS_HOST": "127.0.0.1",
        "MOODLE_REDIS_TLS": "false",
        "MOODLE_ADMIN_USER": "admin",
        "MOODLE_ADMIN_PASSWORD": "Admin-Password-1",
        "MOODLE_ADMIN_EMAIL": "admin@example.com",
        "MOODLE_SITE_FULLNAME": "Image Test Site",
        "MOODLE_SITE_SHORTNAME": "imagetest",
        "MOODLE_NOREPLY_ADDRESS": "noreply@example.com",
    }
    env.update(overrides)
    return env


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


# --- Redis ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redis:
    port: int
    password: str
    ca_file: Path

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            ["redis-cli", "--tls", "--cacert", str(self.ca_file), "-h", "localhost", "-p", str(self.port),
             "--no-auth-warning", "-a", self.password, *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )  # fmt: skip
        return result.stdout


def redis_answers(redis: Redis) -> bool:
    try:
        return redis.cli("PING").strip() == "PONG"
    except subprocess.CalledProcessError:
        return False
