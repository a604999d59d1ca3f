"""How the image talks to Redis, without a Moodle tree: the CA file, certificate verification against two
test CAs, persistent connections in php-fpm, and what a web request and the health check do while Redis is
paused (SIGSTOP: accepts connections, never answers), restarted or stopped.

The connections are the image's own plugin's (cachestore_persistentredis, copied into the release at build
time); a probe script mounted into the web root uses them as Moodle's session handler does. The same
behaviour against real Moodle is in test_image_redis_moodle.py.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from moodle_infra import image_contract
from tests.image.container import Container, Mount, free_port, run_container, start_web
from tests.image.image_testlib import make_runtime_dir, moodle_env, require_binaries, wait_until
from tests.image.mysql_server import MySQL
from tests.image.test_image_config_php import ConfigRun, load_config, run_config

pytestmark = [pytest.mark.container, pytest.mark.services]

__all__ = ["run_config"]  # the fixture, imported to evaluate config.php

IMAGE_CA_FILE = "/etc/ssl/elasticache-ca.pem"
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
ELASTICACHE_ROOTS = {
    "CN=Amazon Root CA 1",
    "CN=Amazon Root CA 2",
    "CN=Amazon Root CA 3",
    "CN=Amazon Root CA 4",
    "CN=Starfield Services Root Certificate Authority - G2",
}
PLUGIN = "/var/www/moodle/public/cache/stores/persistentredis"
PASSWORD = "redis-two-ca-auth"
PROBE_PATH = "/redis-probe.php"
OUTAGE_PHP = "/usr/local/lib/moodle-image/outage.php"
"""The image's 503 for outages, which config.php loads before Moodle runs the plugin."""

# Connects as the session handler does, after what config.php loads, then answers with the connection's id;
# a failure ends the request the way the handler ends it (503). ?ca=PATH overrides the CA file, ?host=NAME
# the name.
PROBE = f"""<?php
require '{OUTAGE_PHP}';
require '{PLUGIN}/classes/connection.php';
use cachestore_persistentredis\\connection;
try {{
    $redis = connection::open($_GET['host'] ?? 'localhost', (int) getenv('PROBE_REDIS_PORT'),
        getenv('PROBE_REDIS_AUTH'), ['cafile' => $_GET['ca'] ?? getenv('PROBE_REDIS_CAFILE')]);
    echo json_encode(['client' => $redis->client('id'), 'pid' => getmypid()]);
}} catch (RedisException $e) {{
    connection::refuse_request();
}}
"""

# The same from the CLI, for one connection attempt: prints "connected" or the error.
CLI_CONNECT = f"""
require '{PLUGIN}/classes/connection.php';
try {{
    $tls = ['cafile' => $argv[4]];
    \\cachestore_persistentredis\\connection::open($argv[1], (int) $argv[2], $argv[3], $tls);
    echo "connected";
}} catch (RedisException $e) {{
    echo "refused: ", $e->getMessage();
}}
"""


@dataclass
class TlsRedis:
    """A Redis with TLS and AUTH whose certificate (for "localhost") CA "a" issued; CA "b" issued none."""

    root: Path
    port: int
    ca_a: Path
    ca_b: Path
    process: subprocess.Popen[bytes] | None = None
    command: list[str] = field(default_factory=list)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, 20, "Redis")

    def stop(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def signal(self, number: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, number)

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            ["redis-cli", "--tls", "--cacert", str(self.ca_a), "-h", "localhost", "-p", str(self.port),
             "--no-auth-warning", "-a", PASSWORD, *args],
            capture_output=True, text=True, check=True, timeout=10,
        )  # fmt: skip
        return result.stdout

    def answers(self) -> bool:
        try:
            return self.cli("PING").strip() == "PONG"
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            return False

    def connections_received(self) -> int:
        stats = dict(line.split(":", 1) for line in self.cli("INFO", "stats").splitlines() if ":" in line)
        return int(stats["total_connections_received"])


def openssl(*args: str, stdin: str | None = None) -> None:
    subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True, check=True)


def make_ca(root: Path, name: str) -> tuple[Path, Path]:
    key, cert = root / f"{name}.key", root / f"{name}.crt"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=Test CA {name}",
            "-keyout", str(key), "-out", str(cert))  # fmt: skip
    return key, cert


@pytest.fixture(scope="module")
def tls_redis() -> Iterator[TlsRedis]:
    require_binaries("redis-server", "redis-cli", "openssl")
    root = Path(tempfile.mkdtemp(prefix="moodle-image-two-cas-"))
    root.chmod(0o755)
    key_a, ca_a = make_ca(root, "a")
    _, ca_b = make_ca(root, "b")
    server_key, server_request, server_cert = root / "s.key", root / "s.csr", root / "s.crt"
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", str(server_key),
            "-out", str(server_request))  # fmt: skip
    openssl("x509", "-req", "-in", str(server_request), "-CA", str(ca_a), "-CAkey", str(key_a),
            "-CAcreateserial", "-days", "2", "-extfile", "/dev/stdin", "-out", str(server_cert),
            stdin="subjectAltName=DNS:localhost\n")  # fmt: skip
    for path in root.iterdir():
        path.chmod(0o644)
    port = free_port()
    redis = TlsRedis(root, port, ca_a, ca_b)
    redis.command = [
        "redis-server", "--port", "0", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--dir", str(root), "--requirepass", PASSWORD, "--tls-port", str(port),
        "--tls-cert-file", str(server_cert), "--tls-key-file", str(server_key), "--tls-auth-clients", "no",
    ]  # fmt: skip
    redis.start()
    yield redis
    redis.stop()
    shutil.rmtree(root, ignore_errors=True)


# --- The CA file ---------------------------------------------------------------------------------------


def certificate_subjects(pem: str) -> list[str]:
    """The subject of each certificate in a PEM file, in OpenSSL's one-line RFC 2253 form."""
    subjects = []
    for block in pem.split("-----END CERTIFICATE-----")[:-1]:
        result = subprocess.run(
            ["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253"],
            input=block + "-----END CERTIFICATE-----\n", capture_output=True, text=True, check=True,
        )  # fmt: skip
        subjects.append(result.stdout.strip().removeprefix("subject="))
    return subjects


def image_file(image: str, path: str) -> str:
    result = run_container(image, "cat", path, env={})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_redis_tls_is_verified_against_the_elasticache_cas_never_the_whole_bundle(
    fake_image: str, run_config: ConfigRun
) -> None:
    """config.php's CA file holds exactly the roots that can issue ElastiCache's certificates: going back to
    the system bundle (~140 certificates parsed on every connect) or to capath fails here."""
    cfg = load_config(run_config)

    assert cfg["session_redis_encrypt"] == {"cafile": IMAGE_CA_FILE}
    subjects = certificate_subjects(image_file(fake_image, cfg["session_redis_encrypt"]["cafile"]))
    assert {subject.split(",")[0] for subject in subjects} == ELASTICACHE_ROOTS
    assert len(subjects) == len(ELASTICACHE_ROOTS)
    # The control: the bundle is what this check must tell apart.
    assert len(certificate_subjects(image_file(fake_image, SYSTEM_BUNDLE))) > 100


def test_sessions_use_the_images_persistent_redis_handler(run_config: ConfigRun) -> None:
    cfg = load_config(run_config)

    assert cfg["session_handler_class"] == "\\cachestore_persistentredis\\session_handler"
    assert cfg["enable_read_only_sessions"] is True


def connect_from_cli(image: str, redis: TlsRedis, *, host: str, ca_file: str) -> str:
    result = run_container(
        image, "php", "-r", CLI_CONNECT, host, str(redis.port), PASSWORD, ca_file,
        env={}, mounts=[(redis.root, "/run/ca", "ro")],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_certificate_from_the_configured_ca_is_accepted(fake_image: str, tls_redis: TlsRedis) -> None:
    assert connect_from_cli(fake_image, tls_redis, host="localhost", ca_file="/run/ca/a.crt") == "connected"


@pytest.mark.parametrize(
    ("host", "ca_file"),
    [
        ("localhost", "/run/ca/b.crt"),
        ("localhost", IMAGE_CA_FILE),
        # The right CA, the wrong name: the certificate is for "localhost".
        ("127.0.0.1", "/run/ca/a.crt"),
    ],
    ids=["another-ca", "the-images-amazon-roots", "wrong-host-name"],
)
def test_a_certificate_the_ca_file_does_not_vouch_for_is_refused(
    fake_image: str, tls_redis: TlsRedis, host: str, ca_file: str
) -> None:
    answer = connect_from_cli(fake_image, tls_redis, host=host, ca_file=ca_file)

    assert answer.startswith("refused: ")


# --- php-fpm: persistent connections, a paused, restarted and stopped Redis ------------------------------


@pytest.fixture(scope="module")
def probe_web(
    fake_image: str, tls_redis: TlsRedis, mysql: MySQL, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Container]:
    root = tmp_path_factory.mktemp("redis-web")
    root.chmod(0o755)
    probe = root / "redis-probe.php"
    probe.write_text(PROBE)
    probe.chmod(0o644)
    mysql.sql("DROP DATABASE IF EXISTS redis_probe; CREATE DATABASE redis_probe")
    env = moodle_env(PROBE_REDIS_PORT=str(tls_redis.port), PROBE_REDIS_AUTH=PASSWORD,
                     PROBE_REDIS_CAFILE="/run/ca/a.crt", MOODLE_DB_PORT=str(mysql.port),
                     MOODLE_DB_NAME="redis_probe", FAKE_MOODLE_LOG="/dev/null")  # fmt: skip
    mounts: list[Mount] = [
        (make_runtime_dir(root / "moodledata"), image_contract.SHARED_DATA_PATH),
        (tls_redis.root, "/run/ca", "ro"),
        (probe, f"/var/www/moodle/public{PROBE_PATH}", "ro"),
    ]
    # `web` starts on a data directory install-or-upgrade prepared, as after every deploy.
    installed = run_container(fake_image, image_contract.COMMAND_INSTALL_OR_UPGRADE, env=env, mounts=mounts)
    assert installed.returncode == 0, installed.stderr
    web = start_web(fake_image, env=env, mounts=mounts)
    yield web
    web.remove()


def get(path: str, timeout: float = 15) -> tuple[int, str, float]:
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", image_contract.CONTAINER_PORT, timeout=timeout)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response.status, body, time.monotonic() - started


def probe_answer() -> dict[str, Any]:
    status, body, _ = get(PROBE_PATH)
    assert status == 200, body
    answer: dict[str, Any] = json.loads(body)
    return answer


def test_php_fpm_workers_keep_their_redis_connections(probe_web: Container, tls_redis: TlsRedis) -> None:
    before = tls_redis.connections_received()

    answers = [probe_answer() for _ in range(30)]

    workers = {answer["pid"] for answer in answers}
    # One connection per worker, whatever the number of requests (the CLI's own INFO is one more).
    assert tls_redis.connections_received() - before - 1 <= len(workers) < 30
    for pid in workers:
        assert len({answer["client"] for answer in answers if answer["pid"] == pid}) == 1


def test_requests_reconnect_after_a_redis_restart(probe_web: Container, tls_redis: TlsRedis) -> None:
    probe_answer()
    tls_redis.stop()
    tls_redis.start()

    answers = [probe_answer() for _ in range(5)]

    assert all(answer["client"] for answer in answers)


def test_a_stopped_redis_fails_requests_at_once_with_a_503(probe_web: Container, tls_redis: TlsRedis) -> None:
    tls_redis.stop()
    try:
        status, body, seconds = get(PROBE_PATH)
    finally:
        tls_redis.start()

    assert status == 503
    assert seconds < 1.0
    assert "127.0.0.1" not in body and str(tls_redis.port) not in body
    assert probe_answer()["client"]


def redis_log_lines(web: Container) -> list[str]:
    """The web container's log lines about Redis: the plugin's own and any PHP warning or notice."""
    return [
        line
        for line in web.logs().splitlines()
        if "Redis" in line or "PHP Warning" in line or "PHP Notice" in line
    ]


def test_a_paused_redis_fails_requests_within_the_timeouts_and_health_still_answers(
    probe_web: Container, tls_redis: TlsRedis
) -> None:
    """More requests than php-fpm has Moodle workers wait on a Redis that never answers; the health check
    answers meanwhile, and every request ends with a 503 within the plugin's connect and read timeouts."""
    probe_answer()
    logged_before = set(redis_log_lines(probe_web))
    tls_redis.signal(signal.SIGSTOP)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
            pages = [pool.submit(get, PROBE_PATH) for _ in range(12)]
            time.sleep(0.5)
            health = [get(image_contract.HEALTH_CHECK_PATH, timeout=5) for _ in range(3)]
            answered = [page.result() for page in pages]
    finally:
        tls_redis.signal(signal.SIGCONT)

    assert [status for status, _, _ in health] == [200, 200, 200]
    assert max(seconds for _, _, seconds in health) < 1.0
    assert {status for status, _, _ in answered} == {503}
    # Connect 1 s + read 2 s at most per attempt, one attempt per request; the 12th waits for a free worker.
    assert max(seconds for _, _, seconds in answered) < 7.0
    assert all("127.0.0.1" not in body for _, body, _ in answered)
    # One log line per failed request, with phpredis's warnings (e.g. the TLS handshake's timeout) in it.
    logged = [line for line in redis_log_lines(probe_web) if line not in logged_before]
    assert len(logged) == len(answered), "\n".join(logged)
    assert all("Redis is unavailable: " in line for line in logged), "\n".join(logged)
    assert not [line for line in logged if "PHP Warning" in line or "PHP Notice" in line]
    assert probe_answer()["client"]
