"""The image's config.php, evaluated by the image's PHP with a stand-in for Moodle's lib/setup.php that
prints $CFG (mounted over the fake release's own)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from moodle_infra import image_contract
from tests.image.container import run_container
from tests.image.image_testlib import EXIT_CONFIG

pytestmark = pytest.mark.container

REQUIRED = {
    "MOODLE_WWWROOT": "https://d111abcdef8.cloudfront.net",
    "MOODLE_DB_HOST": "db.internal",
    "MOODLE_DB_NAME": "moodle",
    "MOODLE_DB_USER": "moodle",
    "MOODLE_DB_PASSWORD": "secret",
    "MOODLE_REDIS_HOST": "redis.internal",
}

# Prints $CFG and the other global variables config.php left behind (superglobals and argv aside).
SETUP_STAND_IN = """<?php
$leftovers = preg_grep('/^(_|argv$|argc$|GLOBALS$|CFG$)/', array_keys($GLOBALS), PREG_GREP_INVERT);
echo json_encode(['cfg' => $CFG, 'leftovers' => array_values($leftovers)], JSON_UNESCAPED_SLASHES);
"""


ConfigRun = Callable[[dict[str, str]], subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def run_config(fake_image: str, tmp_path_factory: pytest.TempPathFactory) -> ConfigRun:
    """Runs the image's config.php in the built image under the given environment."""
    stand_in = tmp_path_factory.mktemp("config") / "setup.php"
    stand_in.write_text(SETUP_STAND_IN)
    stand_in.parent.chmod(0o755)
    stand_in.chmod(0o644)

    def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return run_container(
            fake_image,
            "php", "-r", 'require getenv("MOODLE_DIR") . "/config.php";',
            env=env,
            mounts=[(stand_in, "/var/www/moodle/lib/setup.php", "ro")],
        )  # fmt: skip

    return run


def load_config(run_config: ConfigRun, **overrides: str) -> dict[str, Any]:
    result = run_config({**REQUIRED, **overrides})
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout)
    assert loaded["leftovers"] == [], "config.php must leave only $CFG behind"
    cfg: dict[str, Any] = loaded["cfg"]
    return cfg


def test_cloudfront_wwwroot_uses_sslproxy_and_never_reverseproxy(run_config: ConfigRun) -> None:
    cfg = load_config(run_config)

    assert cfg["wwwroot"] == "https://d111abcdef8.cloudfront.net"
    assert cfg["sslproxy"] is True
    assert "reverseproxy" not in cfg


def test_custom_domain_wwwroot_loses_its_trailing_slash(run_config: ConfigRun) -> None:
    cfg = load_config(run_config, MOODLE_WWWROOT="https://learn.example.edu/")

    assert cfg["wwwroot"] == "https://learn.example.edu"
    assert cfg["sslproxy"] is True
    assert "reverseproxy" not in cfg


def test_plain_http_wwwroot_turns_sslproxy_off(run_config: ConfigRun) -> None:
    assert load_config(run_config, MOODLE_WWWROOT="http://localhost:8080")["sslproxy"] is False


def test_database_defaults_and_overrides(run_config: ConfigRun) -> None:
    defaults = load_config(run_config)
    overridden = load_config(
        run_config, MOODLE_DB_TYPE="mariadb", MOODLE_DB_PORT="3307", MOODLE_DB_PREFIX="m_"
    )

    assert (defaults["dbtype"], defaults["dboptions"]["dbport"], defaults["prefix"]) == (
        "mysqli",
        3306,
        "mdl_",
    )
    assert (overridden["dbtype"], overridden["dboptions"]["dbport"], overridden["prefix"]) == (
        "mariadb",
        3307,
        "m_",
    )
    assert defaults["dbhost"] == "db.internal"
    assert defaults["dbpass"] == "secret"


def test_shared_directories_on_the_efs_mount_and_local_ones_off_it(run_config: ConfigRun) -> None:
    cfg = load_config(run_config)
    shared = image_contract.SHARED_DATA_PATH

    assert cfg["dataroot"] == shared
    for name in ("tempdir", "cachedir", "backuptempdir"):
        assert cfg[name].startswith(shared + "/"), name
    for name in ("localcachedir", "localrequestdir"):
        assert not cfg[name].startswith(shared), name
    assert cfg["localcachedir"] == "/var/cache/moodle"
    assert cfg["xsendfile"] == "X-Accel-Redirect"
    assert cfg["xsendfilealiases"] == {"/dataroot/": shared, "/localcachedir/": "/var/cache/moodle"}


def test_directories_follow_their_variables(run_config: ConfigRun) -> None:
    cfg = load_config(run_config, MOODLE_DATAROOT="/mnt/data/", MOODLE_LOCAL_CACHE_DIR="/scratch")

    assert (cfg["dataroot"], cfg["tempdir"], cfg["localcachedir"]) == (
        "/mnt/data",
        "/mnt/data/temp",
        "/scratch",
    )


def test_sessions_in_redis_over_tls_by_default(run_config: ConfigRun) -> None:
    cfg = load_config(run_config, MOODLE_REDIS_AUTH="token")

    # The image's plugin: Moodle's handler on a persistent connection (test_image_redis.py).
    assert cfg["session_handler_class"] == "\\cachestore_persistentredis\\session_handler"
    assert (cfg["session_redis_host"], cfg["session_redis_port"]) == ("redis.internal", 6379)
    assert cfg["session_redis_auth"] == "token"
    assert cfg["session_redis_prefix"] == "mdl_"
    assert cfg["session_redis_encrypt"] == {"cafile": "/etc/ssl/elasticache-ca.pem"}
    assert cfg["session_redis_acquire_lock_retry"] == 20
    assert cfg["enable_read_only_sessions"] is True


def test_redis_without_tls_or_auth(run_config: ConfigRun) -> None:
    cfg = load_config(run_config, MOODLE_REDIS_TLS="false", MOODLE_REDIS_PORT="6380")

    assert cfg["session_redis_encrypt"] is False
    assert cfg["session_redis_auth"] == ""
    assert cfg["session_redis_port"] == 6380


def test_smtp_only_when_a_host_is_given(run_config: ConfigRun) -> None:
    without = load_config(run_config)
    with_smtp = load_config(
        run_config,
        MOODLE_SMTP_HOST="email-smtp.eu-west-1.amazonaws.com",
        MOODLE_SMTP_PORT="587",
        MOODLE_SMTP_USER="AKIA",
        MOODLE_SMTP_PASSWORD="pw",
        MOODLE_SMTP_SECURE="tls",
        MOODLE_NOREPLY_ADDRESS="noreply@example.edu",
    )

    assert "smtphosts" not in without
    assert "noreplyaddress" not in without
    assert with_smtp["smtphosts"] == "email-smtp.eu-west-1.amazonaws.com:587"
    assert (with_smtp["smtpuser"], with_smtp["smtppass"], with_smtp["smtpsecure"]) == ("AKIA", "pw", "tls")
    assert with_smtp["noreplyaddress"] == "noreply@example.edu"


def test_immutable_code_settings(run_config: ConfigRun) -> None:
    cfg = load_config(run_config)

    assert cfg["preventexecpath"] is True
    assert cfg["disableupdateautodeploy"] is True
    assert cfg["getremoteaddrconf"] == 3


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_missing_required_variable_is_named_on_the_cli(run_config: ConfigRun, missing: str) -> None:
    env = {name: value for name, value in REQUIRED.items() if name != missing}

    result = run_config(env)

    assert result.returncode == EXIT_CONFIG
    assert f"missing environment variable {missing}" in result.stderr
    assert result.stdout == ""


def test_every_problem_is_reported_at_once(run_config: ConfigRun) -> None:
    result = run_config({"MOODLE_REDIS_TLS": "maybe"})

    assert result.returncode == EXIT_CONFIG
    for name in REQUIRED:
        assert name in result.stderr
    assert "MOODLE_REDIS_TLS must be true or false" in result.stderr
