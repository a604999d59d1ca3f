"""The entrypoint's commands against a fake Moodle tree whose CLI scripts record their calls.

install-or-upgrade runs against a real MariaDB (its wait, lock and install detection are the point);
the stand-ins in fake_moodle/ take the place of Moodle's own CLI scripts.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.image.image_testlib import (
    EXIT_CACHE_SETUP_FAILED,
    EXIT_CONFIG,
    EXIT_DATABASE_TIMEOUT,
    EXIT_DATAROOT_NOT_WRITABLE,
    EXIT_INSTALL_OR_UPGRADE_FAILED,
    EXIT_LOCK_TIMEOUT,
    MariaDB,
    entrypoint,
    free_port,
    make_runtime_dir,
    make_runtime_file,
    moodle_env,
    read_fake_log,
    require_binaries,
    run_entrypoint,
    runtime_user_prefix,
)


@pytest.fixture
def fake_log(world_tmp: Path) -> Path:
    return make_runtime_file(world_tmp / "calls.jsonl")


@pytest.fixture
def env(fake_moodle: Path, world_tmp: Path, fake_log: Path) -> dict[str, str]:
    require_binaries("php")
    dataroot = make_runtime_dir(world_tmp / "moodledata")
    return moodle_env(fake_moodle, dataroot, FAKE_MOODLE_LOG=str(fake_log))


def events(log: Path, run: str | None = None) -> list[str]:
    return [str(entry["event"]) for entry in read_fake_log(log) if run is None or entry["run"] == run]


# --- Without services --------------------------------------------------------------------------------


def test_install_or_upgrade_names_a_missing_variable(env: dict[str, str]) -> None:
    del env["MOODLE_DB_HOST"]

    result = run_entrypoint(env, "install-or-upgrade")

    assert result.returncode == EXIT_CONFIG
    assert "missing environment variable MOODLE_DB_HOST" in result.stderr


def test_install_or_upgrade_refuses_a_database_without_named_locks(env: dict[str, str]) -> None:
    result = run_entrypoint({**env, "MOODLE_DB_TYPE": "pgsql"}, "install-or-upgrade")

    assert result.returncode == EXIT_CONFIG
    assert "MOODLE_DB_TYPE 'pgsql' is not supported" in result.stderr


def test_web_refuses_to_start_without_a_writable_dataroot(env: dict[str, str], world_tmp: Path) -> None:
    result = run_entrypoint({**env, "MOODLE_DATAROOT": str(world_tmp / "not-mounted")}, "web")

    assert result.returncode == EXIT_DATAROOT_NOT_WRITABLE
    assert (
        f"the shared data directory {world_tmp / 'not-mounted'} is missing or not writable" in result.stderr
    )


def test_web_refuses_to_start_with_a_missing_variable(env: dict[str, str]) -> None:
    del env["MOODLE_WWWROOT"]

    result = run_entrypoint(env, "web")

    assert result.returncode == EXIT_CONFIG
    assert "missing environment variable MOODLE_WWWROOT" in result.stderr


def test_cron_once_runs_every_due_task_once(env: dict[str, str], fake_log: Path) -> None:
    result = run_entrypoint(env, "cron", "--once")

    assert result.returncode == 0, result.stderr
    assert events(fake_log) == ["cron --keep-alive=0"]


def test_cron_once_returns_crons_failure(env: dict[str, str]) -> None:
    assert run_entrypoint({**env, "FAKE_CRON_STATUS": "1"}, "cron", "--once").returncode == 1


def test_cron_loop_stops_the_container_when_cron_fails(env: dict[str, str], fake_log: Path) -> None:
    result = run_entrypoint({**env, "FAKE_CRON_STATUS": "3", "MOODLE_CRON_KEEP_ALIVE_SECONDS": "60"}, "cron")

    assert result.returncode == 3
    assert events(fake_log) == ["cron --keep-alive=60"]
    assert "cron exited with status 3" in result.stderr


def test_cron_loop_restarts_cron_until_stopped(env: dict[str, str], fake_log: Path) -> None:
    process = subprocess.Popen([*runtime_user_prefix(), str(entrypoint()), "cron"], env=env)
    time.sleep(1)
    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=10) == 0
    assert len(events(fake_log)) >= 2
    assert set(events(fake_log)) == {"cron --keep-alive=180"}


def test_unknown_arguments_are_a_usage_error(env: dict[str, str]) -> None:
    result = run_entrypoint(env, "cron", "--twice")

    assert result.returncode == EXIT_CONFIG
    assert "usage:" in result.stderr


def test_other_commands_run_as_given(env: dict[str, str]) -> None:
    result = run_entrypoint(env, "php", "-r", "echo ini_get('memory_limit');")

    assert result.returncode == 0
    assert result.stdout


# --- With MariaDB ------------------------------------------------------------------------------------

services = pytest.mark.services


@pytest.fixture
def db_env(env: dict[str, str], mariadb: MariaDB, empty_database: str) -> dict[str, str]:
    return {**env, "MOODLE_DB_PORT": str(mariadb.port), "MOODLE_DB_NAME": empty_database}


@services
def test_database_wait_times_out(env: dict[str, str]) -> None:
    nothing_listens = {"MOODLE_DB_PORT": str(free_port()), "MOODLE_DB_WAIT_SECONDS": "2"}
    started = time.monotonic()

    result = run_entrypoint({**env, **nothing_listens}, "install-or-upgrade")

    assert result.returncode == EXIT_DATABASE_TIMEOUT
    assert "was not reachable within 2 s" in result.stderr
    assert "waiting for the database" in result.stderr
    assert time.monotonic() - started < 10


@services
def test_wrong_credentials_fail_at_once(db_env: dict[str, str]) -> None:
    result = run_entrypoint({**db_env, "MOODLE_DB_PASSWORD": "wrong"}, "install-or-upgrade")

    assert result.returncode == EXIT_CONFIG
    assert "refused the configured credentials" in result.stderr


@services
def test_first_run_installs_and_the_second_only_checks(db_env: dict[str, str], fake_log: Path) -> None:
    first = run_entrypoint({**db_env, "FAKE_RUN_ID": "first"}, "install-or-upgrade")
    second = run_entrypoint({**db_env, "FAKE_RUN_ID": "second"}, "install-or-upgrade")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    install, *rest = events(fake_log, "first")
    assert install == (
        "install start --agree-license --adminuser=admin --adminpass=Admin-Password-1"
        " --adminemail=admin@example.com --fullname=Image Test Site --shortname=imagetest"
    )
    assert rest == ["install end", "configure-cache"]
    assert events(fake_log, "second") == ["is-pending", "configure-cache"]


@services
def test_concurrent_runs_install_exactly_once(db_env: dict[str, str], fake_log: Path) -> None:
    runs = {
        name: subprocess.Popen(
            [*runtime_user_prefix(), str(entrypoint()), "install-or-upgrade"],
            env={**db_env, "FAKE_RUN_ID": name, "FAKE_STEP_SECONDS": "1"},
            stderr=subprocess.DEVNULL,
        )
        for name in ("a", "b")
    }
    statuses = {name: run.wait(timeout=60) for name, run in runs.items()}

    assert statuses == {"a": 0, "b": 0}
    log = read_fake_log(fake_log)
    installs = [entry for entry in log if str(entry["event"]).startswith("install start")]
    assert len(installs) == 1
    installer = installs[0]["run"]
    waiter = "b" if installer == "a" else "a"
    assert events(fake_log, waiter) == ["is-pending", "configure-cache"]
    # The waiter started only after the installer had finished everything it does under the lock.
    installer_done = max(float(e["time"]) for e in log if e["run"] == installer)
    waiter_started = min(float(e["time"]) for e in log if e["run"] == waiter)
    assert waiter_started > installer_done


@services
def test_lock_timeout(db_env: dict[str, str], mariadb: MariaDB, fake_log: Path) -> None:
    holder = mariadb.hold_lock(f"{db_env['MOODLE_DB_NAME']}.mdl_install_or_upgrade")
    try:
        result = run_entrypoint({**db_env, "MOODLE_LOCK_WAIT_SECONDS": "1"}, "install-or-upgrade")
    finally:
        holder.kill()
        holder.wait()

    assert result.returncode == EXIT_LOCK_TIMEOUT
    assert "held the lock" in result.stderr
    assert events(fake_log) == []


@services
def test_install_needs_the_admin_and_site_variables(db_env: dict[str, str], fake_log: Path) -> None:
    del db_env["MOODLE_ADMIN_PASSWORD"]
    del db_env["MOODLE_SITE_SHORTNAME"]

    result = run_entrypoint(db_env, "install-or-upgrade")

    assert result.returncode == EXIT_CONFIG
    assert "MOODLE_ADMIN_PASSWORD, MOODLE_SITE_SHORTNAME" in result.stderr
    assert events(fake_log) == []


@services
def test_failed_install(db_env: dict[str, str], fake_log: Path) -> None:
    result = run_entrypoint({**db_env, "FAKE_INSTALL_STATUS": "1"}, "install-or-upgrade")

    assert result.returncode == EXIT_INSTALL_OR_UPGRADE_FAILED
    assert "install_database.php failed with status 1" in result.stderr
    assert "configure-cache" not in events(fake_log)


@services
def test_pending_upgrade_is_run(db_env: dict[str, str], fake_log: Path) -> None:
    assert run_entrypoint(db_env, "install-or-upgrade").returncode == 0

    result = run_entrypoint(
        {**db_env, "FAKE_RUN_ID": "upgrade", "FAKE_UPGRADE_PENDING": "1"}, "install-or-upgrade"
    )

    assert result.returncode == 0, result.stderr
    assert events(fake_log, "upgrade") == ["is-pending", "upgrade --non-interactive", "configure-cache"]


@services
def test_failed_upgrade(db_env: dict[str, str]) -> None:
    assert run_entrypoint(db_env, "install-or-upgrade").returncode == 0
    failing = {"FAKE_UPGRADE_PENDING": "1", "FAKE_UPGRADE_STATUS": "1"}

    result = run_entrypoint({**db_env, **failing}, "install-or-upgrade")

    assert result.returncode == EXIT_INSTALL_OR_UPGRADE_FAILED
    assert "upgrade.php failed with status 1" in result.stderr


@services
def test_failed_cache_setup(db_env: dict[str, str]) -> None:
    result = run_entrypoint({**db_env, "FAKE_CACHE_SETUP_STATUS": "1"}, "install-or-upgrade")

    assert result.returncode == EXIT_CACHE_SETUP_FAILED
    assert "configuring the Redis cache store failed" in result.stderr
