"""Fixtures of the image tests; the helpers they use are in image_testlib.py."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.image.image_testlib import (
    DB_PASSWORD,
    DB_USER,
    MariaDB,
    Redis,
    free_port,
    make_fake_moodle,
    redis_answers,
    require_binaries,
    wait_until,
)


@pytest.fixture
def world_tmp() -> Iterator[Path]:
    """A temporary directory that the runtime user can traverse (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="moodle-image-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def fake_moodle(world_tmp: Path) -> Path:
    return make_fake_moodle(world_tmp / "moodle", public_layout=True)


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDB]:
    require_binaries("mariadbd", "mariadb-install-db", "mariadb")
    root = Path(tempfile.mkdtemp(prefix="moodle-image-mariadb-"))
    datadir, socket_path, port = root / "data", root / "mysqld.sock", free_port()
    subprocess.run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={datadir}",
            "--user=root",
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    server = subprocess.Popen(
        [
            "mariadbd",
            "--no-defaults",
            f"--datadir={datadir}",
            f"--socket={socket_path}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            "--user=root",
            f"--pid-file={root / 'mysqld.pid'}",
            f"--log-error={root / 'error.log'}",
            "--skip-log-bin",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=256M",
            "--innodb-flush-log-at-trx-commit=0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    database = MariaDB(port=port, socket_path=socket_path)
    try:
        wait_until(socket_path.exists, 60, "MariaDB")
        database.sql(
            f"CREATE USER '{DB_USER}'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}';"
            f"GRANT ALL ON *.* TO '{DB_USER}'@'127.0.0.1';"
        )
        yield database
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def empty_database(mariadb: MariaDB, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty database for one test."""
    name = "t_" + request.node.name.replace("[", "_").replace("]", "").replace("-", "_")[:50]
    mariadb.sql(f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name} CHARACTER SET utf8mb4;")
    yield name
    mariadb.sql(f"DROP DATABASE IF EXISTS {name}")


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
