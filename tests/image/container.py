"""The container harness: builds image/Dockerfile with podman and runs the image as ECS runs it.

What runs in the tests is the artifact itself: the Dockerfile built unchanged, with only the build arguments
that differ between CodeBuild and these machines (a local Debian base image made with mmdebstrap, since
public.ecr.aws is not reachable here, and a Moodle release archive served on loopback). Containers use the
host's network, so they reach the MySQL (mysql_server.py) and Redis that the tests start on 127.0.0.1, and
`web` listens on the host's port 8080: one web container at a time.

Podman needs a containers.conf on these machines (docs/IMAGE.md, "Building and testing the image
locally"); the harness writes one and points CONTAINERS_CONF at it for every podman call.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import hashlib
import http.server
import os
import resource
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from moodle_infra import image_contract

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGE_DIR = REPO_ROOT / "image"

DEBIAN_RELEASE = "trixie"
"""The Debian release of the Dockerfile's default base image (public.ecr.aws/debian/debian:trixie-slim)."""
BASE_IMAGE = f"localhost/moodle-base:{DEBIAN_RELEASE}"
CONTAINER_TOOLS = ("podman", "mmdebstrap", "runc")
REQUIRED_VARIABLE = "MOODLE_CONTAINER_TESTS_REQUIRED"
"""Set by .ci/run: a missing container tool then fails the tests instead of skipping them."""

BUILD_TIMEOUT = 900

WEB_PORT_LOCK = Path(tempfile.gettempdir()) / f"moodle-image-web-{image_contract.CONTAINER_PORT}.lock"
"""Held while a web container of any checkout on this machine listens on the port."""
WEB_PORT_WAIT_SECONDS = 900


def checkout_tag(name: str) -> str:
    """An image tag of this checkout's tests: checkouts side by side on one machine share podman's storage."""
    checkout = hashlib.sha256(str(REPO_ROOT).encode()).hexdigest()[:8]
    return f"localhost/moodle-test-{checkout}:{name}"


def require_podman() -> None:
    """Skips (or, under .ci/run, fails) when the container tools are not installed."""
    missing = [name for name in CONTAINER_TOOLS if shutil.which(name) is None]
    if not missing:
        return
    reason = f"the container tests need {', '.join(missing)} (Debian packages; .ci/run installs them)"
    if os.environ.get(REQUIRED_VARIABLE):
        pytest.fail(f"{reason}, and {REQUIRED_VARIABLE} is set")
    pytest.skip(reason)


@functools.cache
def podman_env() -> dict[str, str]:
    """The environment for podman: a containers.conf that works on these hosts (see the module doc)."""
    hard_nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nofile = hard_nofile if hard_nofile != resource.RLIM_INFINITY else 1048576
    directory = Path(tempfile.mkdtemp(prefix="moodle-podman-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    conf = directory / "containers.conf"
    conf.write_text(
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc=32768:32768"]\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
    )
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def podman(
    *args: str, check: bool = True, timeout: float = 120, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["podman", *args],
        env=podman_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=input_text,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"podman {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-4000:]}"
        )
    return result


def image_exists(tag: str) -> bool:
    return podman("image", "exists", tag, check=False).returncode == 0


def debian_image(
    tag: str, suite: str, *, packages: Sequence[str] = (), apt_options: Sequence[str] = ()
) -> str:
    """A Debian image made from the package mirror (mmdebstrap, then `podman import`), kept under `tag` in
    podman's storage: later runs and other checkouts on the machine reuse it."""
    if not image_exists(tag):
        with tempfile.TemporaryDirectory(prefix="moodle-debian-image-") as directory:
            tarball = Path(directory) / "rootfs.tar"
            options = [f"--include={','.join(packages)}"] if packages else []
            options += [f"--aptopt={option}" for option in apt_options]
            subprocess.run(
                ["mmdebstrap", "--variant=minbase", "--quiet", *options, suite, str(tarball)],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=True,
                timeout=BUILD_TIMEOUT,
            )
            podman("import", "--quiet", str(tarball), tag, timeout=300)
    return tag


def ensure_base_image() -> str:
    """The Debian base image, standing in for public.ecr.aws's."""
    return debian_image(BASE_IMAGE, DEBIAN_RELEASE)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# --- Release archives, served on loopback -------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseArchive:
    """A Moodle release archive, shaped like download.moodle.org's: the tree under one top directory."""

    path: Path
    sha256: str
    version: str


def pack_release(tree: Path, archive: Path, *, version: str) -> ReleaseArchive:
    """Packs `tree` as `moodle/...` into a .tgz (gzip -1: the image build only unpacks it once)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["tar", "--use-compress-program=gzip -1", "-cf", str(archive), "--exclude=.git",
         "--transform=s,^\\.,moodle,", "-C", str(tree), "."],
        check=True,
        capture_output=True,
        timeout=600,
    )  # fmt: skip
    digest = hashlib.sha256()
    with archive.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return ReleaseArchive(archive, digest.hexdigest(), version)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def loopback_file_server(directory: Path) -> Iterator[str]:
    """Serves `directory` on 127.0.0.1 (where a build with the host's network reaches it); yields its URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- Building -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Build:
    tag: str
    result: subprocess.CompletedProcess[str]
    seconds: float

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


def build_image(
    *,
    tag: str,
    release_url: str,
    release: ReleaseArchive | None,
    context: Path = IMAGE_DIR,
    build_args: Mapping[str, str] | None = None,
    extra_options: Sequence[str] = (),
) -> Build:
    """`podman build` of the Dockerfile in `context` as CodeBuild runs it, from the local base image.

    ``--format docker`` keeps HEALTHCHECK and SHELL, which the OCI format drops.
    """
    arguments = {"BASE_IMAGE": ensure_base_image()}
    if release is not None:
        arguments |= {"MOODLE_VERSION": release.version, "MOODLE_SHA256": release.sha256}
    arguments |= {"MOODLE_URL": release_url, **(build_args or {})}
    command = ["build", "--format", "docker", "--network", "host", "--tag", tag, *extra_options]
    for name, value in arguments.items():
        command += ["--build-arg", f"{name}={value}"]
    started = time.monotonic()
    result = podman(*command, str(context), check=False, timeout=BUILD_TIMEOUT)
    return Build(tag, result, time.monotonic() - started)


def inspect_image(tag: str, template: str) -> str:
    return podman("image", "inspect", "--format", template, tag).stdout.strip()


# --- Running ------------------------------------------------------------------------------------------

Mount = tuple[Path, str] | tuple[Path, str, str]
"""(host path, container path[, options such as "ro"])."""


def _run_options(env: Mapping[str, str], mounts: Sequence[Mount]) -> list[str]:
    options = ["--network", "host"]
    for name, value in env.items():
        options += ["--env", f"{name}={value}"]
    for mount in mounts:
        options += ["--volume", ":".join([str(mount[0]), *mount[1:]])]
    return options


def run_container(
    image: str,
    *command: str,
    env: Mapping[str, str],
    mounts: Sequence[Mount] = (),
    timeout: float = 120,
    options: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """`podman run --rm` to completion: what an ECS one-off task (install-or-upgrade) does.

    Without the image's HEALTHCHECK, which podman could only schedule through systemd (and ECS ignores).
    """
    name = f"moodle-test-{uuid.uuid4().hex[:12]}"
    try:
        return podman(
            "run", "--rm", "--no-healthcheck", "--name", name, *_run_options(env, mounts), *options, image,
            *command,
            check=False, timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        podman("rm", "--force", "--time", "0", name, check=False)
        raise


@dataclass
class Container:
    """A container started in the background, like an ECS service's task."""

    image: str
    name: str = field(default_factory=lambda: f"moodle-test-{uuid.uuid4().hex[:12]}")
    port_lock: IO[bytes] | None = None
    seconds_to_healthy: float = 0.0
    """From `podman run` to the first passing health check (start_web), lock waits excluded."""

    def start(
        self,
        *command: str,
        env: Mapping[str, str],
        mounts: Sequence[Mount] = (),
        options: Sequence[str] = (),
    ) -> Container:
        podman("run", "--detach", "--name", self.name, *_run_options(env, mounts), *options, self.image,
               *command)  # fmt: skip
        atexit.register(self.remove)
        return self

    def state(self, field_name: str) -> str:
        return podman("inspect", "--format", f"{{{{.State.{field_name}}}}}", self.name).stdout.strip()

    def running(self) -> bool:
        return self.state("Running") == "true"

    def exec(
        self, *command: str, user: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        options = ["--user", user] if user else []
        return podman("exec", *options, self.name, *command, check=False, timeout=timeout)

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def healthcheck(self) -> bool:
        """Runs the image's HEALTHCHECK once (podman schedules none without systemd)."""
        return podman("healthcheck", "run", self.name, check=False).returncode == 0

    def podman_kill(self) -> None:
        """SIGKILL, as a task stopped by Fargate after its grace period or by the kernel's OOM killer."""
        podman("kill", "--signal", "KILL", self.name, check=False)

    def stop(self, timeout: int = 30) -> int:
        """SIGTERM (the image's STOPSIGNAL), SIGKILL after `timeout` s, as ECS stops a task; the exit code."""
        podman("stop", "--time", str(timeout), self.name, check=False, timeout=timeout + 30)
        return self.wait()

    def wait(self, timeout: float = 60) -> int:
        return int(podman("wait", self.name, timeout=timeout).stdout.strip().splitlines()[-1])

    def remove(self) -> None:
        podman("rm", "--force", "--time", "0", self.name, check=False)
        if self.port_lock is not None:
            self.port_lock.close()
            self.port_lock = None


def lock_web_port() -> IO[bytes]:
    """Waits until no other web container of this machine's checkouts holds the port, then holds it."""
    lock = WEB_PORT_LOCK.open("ab")
    deadline = time.monotonic() + WEB_PORT_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return lock
        except BlockingIOError:
            if time.monotonic() > deadline:
                lock.close()
                raise AssertionError(
                    f"another web container held port {image_contract.CONTAINER_PORT} for "
                    f"{WEB_PORT_WAIT_SECONDS} s ({WEB_PORT_LOCK}); is a test starting two at once?"
                ) from None
            time.sleep(0.5)


def web_url(path: str = "") -> str:
    return f"http://127.0.0.1:{image_contract.CONTAINER_PORT}{path}"


def start_web(
    image: str, *, env: Mapping[str, str], mounts: Sequence[Mount], timeout: float = 60
) -> Container:
    """`web` in the background, returned once its health check answers (or failing with its logs)."""
    port = image_contract.CONTAINER_PORT
    port_lock = lock_web_port()
    # A container started without the lock (a benchmark, a test expecting `web` to refuse) may still hold it.
    deadline = time.monotonic() + WEB_PORT_WAIT_SECONDS
    while not port_is_free(port):
        if time.monotonic() > deadline:
            port_lock.close()
            raise AssertionError(f"port {port} is taken on this machine: the web container listens there")
        time.sleep(0.5)
    container = Container(image, port_lock=port_lock)
    started = time.monotonic()
    container.start(image_contract.COMMAND_WEB, env=env, mounts=mounts)
    deadline = started + timeout
    while not container.healthcheck():
        if not container.running() or time.monotonic() > deadline:
            logs = container.logs()
            container.remove()
            raise AssertionError(f"the web container did not become healthy:\n{logs[-4000:]}")
        time.sleep(0.2)
    container.seconds_to_healthy = time.monotonic() - started
    return container
