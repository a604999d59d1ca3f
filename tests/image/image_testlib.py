"""Helpers of the image tests: paths, exit codes, local services (MariaDB, Redis) and the web stack.

The image's files run here on Debian's own php, php-fpm, nginx, MariaDB and Redis (the packages in
.ci/system-packages.txt). Where the image's configuration names a path or port of the container, the tests
rewrite exactly that string and nothing else (see ``rewrite``), so what runs is the image's configuration.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from moodle_infra import image_contract

REPO_ROOT = Path(__file__).resolve().parents[2]

IMAGE_DIR = REPO_ROOT / "image"
FAKE_MOODLE_DIR = Path(__file__).resolve().parent / "fake_moodle"

# Exit codes of the entrypoint and install-or-upgrade (docs/IMAGE.md).
EXIT_CONFIG = 2
EXIT_DATABASE_TIMEOUT = 3
EXIT_LOCK_TIMEOUT = 4
EXIT_INSTALL_OR_UPGRADE_FAILED = 5
EXIT_CACHE_SETUP_FAILED = 6
EXIT_DATAROOT_NOT_WRITABLE = 7

DB_USER = "moodle"
DB_PASSWORD = "moodle-test-password"
RUNNING_AS_ROOT = os.geteuid() == 0


def require_binaries(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (installed by .ci/run from .ci/system-packages.txt)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout} s")
        time.sleep(0.05)


@functools.cache
def entrypoint() -> Path:
    """The entrypoint in a root-owned, world-readable copy of image/bin, as the Dockerfile installs it:
    the runtime user cannot reach the checkout when it lies below a private directory."""
    helpers = Path(tempfile.mkdtemp(prefix="moodle-image-bin-"))
    atexit.register(shutil.rmtree, helpers, ignore_errors=True)
    helpers.chmod(0o755)
    installed = helpers / "bin"
    shutil.copytree(IMAGE_DIR / "bin", installed)
    installed.chmod(0o755)
    return installed / "entrypoint.sh"


def runtime_user_prefix() -> list[str]:
    """Runs a command as the image's runtime uid/gid when the tests run as root, as in the container."""
    if not RUNNING_AS_ROOT:
        return []
    require_binaries("setpriv")
    uid, gid = image_contract.RUNTIME_UID, image_contract.RUNTIME_GID
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]


def make_runtime_dir(path: Path) -> Path:
    """A directory the runtime user can write, like the EFS access point and the container's /tmp."""
    path.mkdir(parents=True, exist_ok=True)
    if RUNNING_AS_ROOT:
        os.chown(path, image_contract.RUNTIME_UID, image_contract.RUNTIME_GID)
    return path


def make_runtime_file(path: Path) -> Path:
    """A log file the runtime user can reopen through /proc/self/fd, as runc arranges for stdout/stderr."""
    path.touch()
    if RUNNING_AS_ROOT:
        os.chown(path, image_contract.RUNTIME_UID, image_contract.RUNTIME_GID)
    return path


def rewrite(text: str, replacements: Mapping[str, str]) -> str:
    """Replaces container paths and ports; each must occur, so a changed image file fails loudly."""
    for old, new in replacements.items():
        assert old in text, f"expected {old!r} in the image's configuration"
        text = text.replace(old, new)
    return text


def make_fake_moodle(root: Path, *, public_layout: bool) -> Path:
    """A tiny Moodle-shaped tree: the image's config.php and stand-ins that record their calls."""
    shutil.copytree(FAKE_MOODLE_DIR / "lib", root / "lib")
    shutil.copytree(FAKE_MOODLE_DIR / "admin", root / "admin")
    shutil.copytree(
        FAKE_MOODLE_DIR / "webroot", root / "public" if public_layout else root, dirs_exist_ok=True
    )
    shutil.copy(IMAGE_DIR / "moodle" / "config.php", root / "config.php")
    return root


def read_fake_log(path: Path) -> list[dict[str, str | float]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def moodle_env(moodle_dir: Path, dataroot: Path, **overrides: str) -> dict[str, str]:
    """The variables the ECS task definition sets, pointing at local stand-ins."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "MOODLE_DIR": str(moodle_dir),
        "MOODLE_WWWROOT": "http://localhost",
        "MOODLE_DB_TYPE": "mariadb",
        "MOODLE_DB_HOST": "127.0.0.1",
        "MOODLE_DB_PORT": "3306",
        "MOODLE_DB_NAME": "moodle",
        "MOODLE_DB_USER": DB_USER,
        "MOODLE_DB_PASSWORD": DB_PASSWORD,
        "MOODLE_REDIS_HOST": "127.0.0.1",
        "MOODLE_REDIS_TLS": "false",
        "MOODLE_DATAROOT": str(dataroot),
        "MOODLE_LOCAL_CACHE_DIR": str(dataroot.parent / "localcache"),
        "MOODLE_ADMIN_USER": "admin",
        "MOODLE_ADMIN_PASSWORD": "Admin-Password-1",
        "MOODLE_ADMIN_EMAIL": "admin@example.com",
        "MOODLE_SITE_FULLNAME": "Image Test Site",
        "MOODLE_SITE_SHORTNAME": "imagetest",
        "MOODLE_NOREPLY_ADDRESS": "noreply@example.com",
    }
    env.update(overrides)
    return env


def run_entrypoint(
    env: Mapping[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*runtime_user_prefix(), str(entrypoint()), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# --- MariaDB -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MariaDB:
    port: int
    socket_path: Path

    def client(self, *options: str) -> list[str]:
        """The mariadb client as root over the socket (root authenticates by socket)."""
        return ["mariadb", "--no-defaults", f"--socket={self.socket_path}", "-uroot", "-N", "-B", *options]

    def sql(self, statement: str) -> str:
        result = subprocess.run(
            self.client("-e", statement), capture_output=True, text=True, check=True, timeout=30
        )
        return result.stdout

    def hold_lock(self, name: str) -> subprocess.Popen[str]:
        """A client that holds GET_LOCK(name) until it is killed."""
        process = subprocess.Popen(
            self.client("--unbuffered"), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(f"SELECT GET_LOCK('{name}', 5);\n")
        process.stdin.flush()
        assert process.stdout.readline().strip() == "1"
        return process


# --- Redis ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redis:
    port: int
    password: str
    ca_file: Path

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [
                "redis-cli",
                "--tls",
                "--cacert",
                str(self.ca_file),
                "-h",
                "localhost",
                "-p",
                str(self.port),
                "--no-auth-warning",
                "-a",
                self.password,
                *args,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return result.stdout


def redis_answers(redis: Redis) -> bool:
    try:
        return redis.cli("PING").strip() == "PONG"
    except subprocess.CalledProcessError:
        return False


# --- The web stack: the entrypoint's `web` command with the image's php-fpm and nginx configuration ----


@dataclass
class WebStack:
    base_url: str
    env: Mapping[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path
    process_groups: set[int] = field(default_factory=set)

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def remember_process_groups(self) -> None:
        """The entrypoint's process group and those of its children: php-fpm starts one of its own."""
        children = ["ps", "-o", "pgid=", "--ppid", str(self.process.pid)]
        groups = subprocess.run(children, capture_output=True, text=True, check=False).stdout.split()
        self.process_groups = {self.process.pid, *map(int, groups)}

    def stop(self) -> int:
        """Stops the stack as ECS does (SIGTERM to the entrypoint) and returns its exit status.

        Then, as the end of a container would, kills whatever the entrypoint left behind (after a
        SIGKILL to php-fpm's master, its workers live on).
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=30)
        for group in self.process_groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        return status


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def install_image_config(
    moodle_dir: Path, env: Mapping[str, str], work_dir: Path, http_port: int
) -> dict[str, str]:
    """Writes the image's PHP ini files, php-fpm pool and nginx.conf for this machine into work_dir.

    Only their container paths and ports are rewritten. Returns the environment under which `php`,
    `php-fpm` and `nginx` use them: PHP_INI_SCAN_DIR adds the ini files after Debian's own, and
    `php-fpm` and `nginx` on PATH become two-line shims that hand the files to Debian's binaries (the image
    runs Debian's nginx too).
    """
    require_binaries("php", "php-fpm8.2", "nginx")
    fpm_port = free_port()
    webroot = moodle_dir / "public" if (moodle_dir / "public").is_dir() else moodle_dir
    php_dir, shim_dir = work_dir / "php", work_dir / "bin"
    php_dir.mkdir()
    shim_dir.mkdir()
    make_runtime_dir(work_dir / "nginx-tmp")
    ports = {"127.0.0.1:9000": f"127.0.0.1:{fpm_port}"}
    dataroot_path = {image_contract.SHARED_DATA_PATH + "/": env["MOODLE_DATAROOT"] + "/"}

    shutil.copy(IMAGE_DIR / "php" / "moodle.ini", php_dir)
    blacklist = "/usr/local/etc/php/opcache-blacklist.txt"
    (php_dir / "opcache.ini").write_text(
        rewrite((IMAGE_DIR / "php" / "opcache.ini").read_text(), {blacklist: str(php_dir / "blacklist.txt")})
    )
    (php_dir / "blacklist.txt").write_text(
        rewrite((IMAGE_DIR / "php" / "opcache-blacklist.txt").read_text(), dataroot_path)
    )
    fpm_config = work_dir / "php-fpm.conf"
    fpm_config.write_text(rewrite((IMAGE_DIR / "php-fpm" / "moodle.conf").read_text(), ports))
    nginx_config = work_dir / "nginx.conf"
    nginx_config.write_text(
        rewrite(
            (IMAGE_DIR / "nginx" / "nginx.conf").read_text(),
            {
                **ports,
                f"listen {image_contract.CONTAINER_PORT} ": f"listen 127.0.0.1:{http_port} ",
                **dataroot_path,
                "/var/www/webroot": str(webroot),
                "/var/cache/moodle/": env["MOODLE_LOCAL_CACHE_DIR"] + "/",
                "/tmp/nginx": str(work_dir / "nginx-tmp" / "nginx"),
            },
        )
    )
    shims = {
        "php-fpm": f"{shutil.which('php-fpm8.2')} --fpm-config {fpm_config}",
        "nginx": f"{shutil.which('nginx')} -c {nginx_config}",
    }
    for name, command in shims.items():
        shim = shim_dir / name
        shim.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
        shim.chmod(0o755)
    return {"PATH": f"{shim_dir}:{env['PATH']}", "PHP_INI_SCAN_DIR": f":{php_dir}"}


def start_web_stack(env: Mapping[str, str], work_dir: Path, http_port: int) -> WebStack:
    """Runs `entrypoint.sh web` as the runtime user with the configuration from install_image_config."""
    log_path = make_runtime_file(work_dir / "web.log")
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [*runtime_user_prefix(), str(entrypoint()), image_contract.COMMAND_WEB],
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            # A process group of its own, so that stop() can end everything it started.
            start_new_session=True,
        )
    stack = WebStack(f"http://127.0.0.1:{http_port}", env, process, log_path)
    health_url = stack.base_url + image_contract.HEALTH_CHECK_PATH
    try:
        wait_until(lambda: process.poll() is not None or http_status(health_url) == 200, 20, "web stack")
    except TimeoutError:
        stack.remember_process_groups()
        stack.stop()
        raise
    stack.remember_process_groups()
    return stack
