"""Fixtures of the image tests: the image built from image/Dockerfile, and the local services it uses.

The harness is in container.py, the shared helpers in image_testlib.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.image.container import (
    ReleaseArchive,
    build_image,
    checkout_tag,
    free_port,
    loopback_file_server,
    pack_release,
    require_podman,
)
from tests.image.image_testlib import (
    FAKE_MOODLE_DIR,
    Redis,
    redis_answers,
    require_binaries,
    wait_until,
)
from tests.image.mysql_server import MySQL, running_mysql
from tests.image.real_moodle import (
    PREVIOUS_SOURCE_VARIABLE,
    SOURCE_VARIABLE,
    RealImage,
    build_real_image,
)

FAKE_RELEASE_VERSION = "5.1.6"
BUILD_STAGE = "moodle"
"""The Dockerfile's stage that unpacks the release and runs image/build/install-plugins.php."""

# The PHP extensions Moodle 5.1's composer.json requires: composer refuses to install without them.
MOODLE_COMPOSER_EXTENSIONS = (
    "ctype", "curl", "dom", "fileinfo", "gd", "hash", "iconv", "intl", "json", "mbstring", "openssl", "pcre",
    "simplexml", "sodium", "spl", "xml", "xmlreader", "zip", "zlib",
)  # fmt: skip

FORBIDDEN_FILES = (
    "vendor/autoload.php",
    "composer.json",
    "composer.lock",
    ".git/config",
    "lib/tests/fixtures/sample.txt",
    "admin/environment.xml",
    "README.md",
    "config.php",
)
"""Files in the web root that nginx must never serve; the fake release carries each with a secret."""


@pytest.fixture
def world_tmp() -> Iterator[Path]:
    """A temporary directory that the runtime user can traverse (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="moodle-image-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def release_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="moodle-releases-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def release_url(release_dir: Path) -> Iterator[str]:
    """Where builds download release archives: release_dir, served on loopback."""
    with loopback_file_server(release_dir) as url:
        yield url


def write_composer_files(root: Path, requirements: dict[str, str]) -> None:
    """A composer.json and its lock with platform requirements only, like Moodle's (no runtime packages)."""
    platform = {"php": ">=8.2.0", **requirements}
    lock = {"content-hash": "", "packages": [], "packages-dev": [], "platform": platform, "platform-dev": []}
    (root / "composer.json").write_text(json.dumps({"name": "test/fake-moodle", "require": platform}))
    (root / "composer.lock").write_text(json.dumps(lock))


def make_fake_release(root: Path, *, public_layout: bool) -> Path:
    """A tiny Moodle-shaped tree whose CLI scripts record their calls (fake_moodle/), with the files nginx
    must hide and a composer.json with Moodle's platform requirements."""
    shutil.copytree(FAKE_MOODLE_DIR / "lib", root / "lib")
    shutil.copytree(FAKE_MOODLE_DIR / "admin", root / "admin")
    webroot = root / "public" if public_layout else root
    shutil.copytree(FAKE_MOODLE_DIR / "webroot", webroot, dirs_exist_ok=True)
    for name in FORBIDDEN_FILES:
        (webroot / name).parent.mkdir(parents=True, exist_ok=True)
        (webroot / name).write_text("<?php echo 'secret';\n")
    write_composer_files(root, {f"ext-{name}": "*" for name in MOODLE_COMPOSER_EXTENSIONS})
    # Release archives carry no config.php; a stale one must not survive into the image all the same.
    (root / "config.php").write_text("<?php // stale\n")
    return root


def pack_fake_release(release_dir: Path, *, public_layout: bool) -> ReleaseArchive:
    layout = "public" if public_layout else "flat"
    tree = make_fake_release(release_dir / f"tree-{layout}", public_layout=public_layout)
    return pack_release(tree, release_dir / f"fake-{layout}.tgz", version=FAKE_RELEASE_VERSION)


def built(release: ReleaseArchive, release_url: str, tag: str, *, target: str | None = None) -> str:
    """The image (or, with `target`, one of the Dockerfile's build stages) built with `release`."""
    build = build_image(
        tag=tag,
        release_url=f"{release_url}/{release.path.name}",
        release=release,
        extra_options=["--target", target] if target else (),
    )
    assert build.result.returncode == 0, build.output[-6000:]
    return tag


@pytest.fixture(scope="session")
def fake_release(release_dir: Path) -> ReleaseArchive:
    """A fake Moodle release in 5.1's layout (web root public/)."""
    return pack_fake_release(release_dir, public_layout=True)


@pytest.fixture(scope="session")
def fake_image(fake_release: ReleaseArchive, release_url: str) -> str:
    """The image built from image/Dockerfile with the fake release."""
    require_podman()
    return built(fake_release, release_url, checkout_tag("fake-public"))


@pytest.fixture(scope="session")
def fake_build_stage(fake_release: ReleaseArchive, release_url: str) -> str:
    """The Dockerfile's `moodle` stage built with the fake release (from the same layers as fake_image): the
    image's build helpers run in it with the PHP, extensions and tools a real build gives them."""
    require_podman()
    return built(fake_release, release_url, checkout_tag("fake-build-stage"), target=BUILD_STAGE)


@pytest.fixture(scope="session")
def fake_flat_image(release_dir: Path, release_url: str) -> str:
    """The same with a fake release in the flat layout of Moodle 5.0 and older."""
    require_podman()
    release = pack_fake_release(release_dir, public_layout=False)
    return built(release, release_url, checkout_tag("fake-flat"))


# --- Local services ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mysql() -> Iterator[MySQL]:
    """One MySQL server for the session (tests/image/mysql_server.py); each test uses its own database."""
    require_podman()
    with running_mysql() as server:
        yield server


@pytest.fixture
def empty_database(mysql: MySQL, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty database for one test."""
    name = "t_" + request.node.name.replace("[", "_").replace("]", "").replace("-", "_")[:50]
    mysql.sql(f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name} CHARACTER SET utf8mb4;")
    yield name
    mysql.sql(f"DROP DATABASE IF EXISTS {name}")


@pytest.fixture(scope="session")
def redis_tls() -> Iterator[Redis]:
    """Redis with TLS and AUTH, as ElastiCache runs it; its certificate is for "localhost"."""
    require_binaries("redis-server", "redis-cli", "openssl")
    root = Path(tempfile.mkdtemp(prefix="moodle-image-redis-"))
    root.chmod(0o755)
    cert, key = root / "server.crt", root / "server.key"
    certificate_request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
    subprocess.run(
        [*certificate_request, "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
        check=True,
    )  # fmt: skip
    cert.chmod(0o644)
    redis = Redis(port=free_port(), password="redis-test-auth-token", ca_file=cert)
    server = subprocess.Popen(
        ["redis-server", "--port", "0", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(root), "--requirepass", redis.password, "--tls-port", str(redis.port),
         "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-auth-clients", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: redis_answers(redis), 20, "Redis")
        yield redis
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


# --- Real Moodle (opt-in) ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def real_image(release_dir: Path, release_url: str) -> RealImage:
    """The image built with the Moodle tree in MOODLE_SRC as its release (skipped without it)."""
    return build_real_image(SOURCE_VARIABLE, release_dir, release_url)


@pytest.fixture(scope="session")
def previous_real_image(release_dir: Path, release_url: str) -> RealImage:
    """The image built with the older Moodle tree in MOODLE_SRC_PREVIOUS (skipped without it)."""
    return build_real_image(PREVIOUS_SOURCE_VARIABLE, release_dir, release_url)
