"""The entrypoint's commands in the built image, with a fake Moodle release whose CLI scripts record their
calls (tests/image/fake_moodle).

install-or-upgrade runs against a real MySQL (its wait, lock and install detection are the point);
the stand-ins take the place of Moodle's own CLI scripts.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from moodle_infra import image_contract
from tests.image.container import Container, free_port, run_container
from tests.image.image_testlib import (
    EXIT_CACHE_SETUP_FAILED,
    EXIT_CONFIG,
    EXIT_DATABASE_TIMEOUT,
    EXIT_DATAROOT_NOT_PREPARED,
    EXIT_DATAROOT_NOT_WRITABLE,
    EXIT_INSTALL_OR_UPGRADE_FAILED,
    EXIT_LOCK_TIMEOUT,
    EXIT_MISSING_PLUGINS,
    EXIT_UNFINISHED_INSTALL_HOLDS_DATA,
    EXIT_UNKNOWN_SETTINGS,
    make_runtime_dir,
    moodle_env,
)
from tests.image.mysql_server import MySQL
from tests.image.stalling_proxy import StallingProxy, stalling_proxy

pytestmark = pytest.mark.container

LOG_DIR = "/run/fake-moodle"


@dataclass
class Task:
    """What an ECS task of the image gets: the image, its variables and the EFS mount (and the fakes' log)."""

    image: str
    env: dict[str, str]
    dataroot: Path
    log_dir: Path

    def mounts(self) -> list[tuple[Path, str]]:
        return [(self.dataroot, image_contract.SHARED_DATA_PATH), (self.log_dir, LOG_DIR)]

    def run(self, *command: str, timeout: float = 60, **overrides: str) -> subprocess.CompletedProcess[str]:
        return run_container(
            self.image, *command, env={**self.env, **overrides}, mounts=self.mounts(), timeout=timeout
        )

    def start(self, *command: str, **overrides: str) -> Container:
        return Container(self.image).start(*command, env={**self.env, **overrides}, mounts=self.mounts())

    def log_entries(self) -> list[dict[str, str | float]]:
        log = self.log_dir / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def events(self, run: str | None = None) -> list[str]:
        return [str(entry["event"]) for entry in self.log_entries() if run is None or entry["run"] == run]


@pytest.fixture
def task(fake_image: str, world_tmp: Path) -> Task:
    env = moodle_env(FAKE_MOODLE_LOG=f"{LOG_DIR}/calls.jsonl")
    return Task(
        fake_image, env, make_runtime_dir(world_tmp / "moodledata"), make_runtime_dir(world_tmp / "log")
    )


# --- Without services --------------------------------------------------------------------------------


def test_install_or_upgrade_names_a_missing_variable(task: Task) -> None:
    del task.env["MOODLE_DB_HOST"]

    result = task.run("install-or-upgrade")

    assert result.returncode == EXIT_CONFIG
    assert "missing environment variable MOODLE_DB_HOST" in result.stderr


def test_install_or_upgrade_refuses_a_database_without_named_locks(task: Task) -> None:
    result = task.run("install-or-upgrade", MOODLE_DB_TYPE="pgsql")

    assert result.returncode == EXIT_CONFIG
    assert "MOODLE_DB_TYPE 'pgsql' is not supported" in result.stderr


def test_web_refuses_to_start_when_the_data_directory_is_not_mounted(fake_image: str) -> None:
    result = run_container(fake_image, "web", env=moodle_env())

    assert result.returncode == EXIT_DATAROOT_NOT_WRITABLE
    assert f"the shared data directory {image_contract.SHARED_DATA_PATH} is missing or not writable" in (
        result.stderr
    )


def test_web_refuses_to_start_on_a_read_only_data_directory(task: Task) -> None:
    result = run_container(
        task.image, "web", env=task.env, mounts=[(task.dataroot, image_contract.SHARED_DATA_PATH, "ro")]
    )

    assert result.returncode == EXIT_DATAROOT_NOT_WRITABLE


def test_web_refuses_to_start_with_a_missing_variable(task: Task) -> None:
    del task.env["MOODLE_WWWROOT"]

    result = task.run("web")

    assert result.returncode == EXIT_CONFIG
    assert "missing environment variable MOODLE_WWWROOT" in result.stderr


def test_unknown_arguments_are_a_usage_error(task: Task) -> None:
    result = task.run("cron", "--twice")

    assert result.returncode == EXIT_CONFIG
    assert "usage:" in result.stderr


def test_other_commands_run_as_given(task: Task) -> None:
    result = task.run("php", "-r", "echo ini_get('max_input_vars');")

    assert result.returncode == 0
    assert result.stdout == "5000"


# --- With MySQL --------------------------------------------------------------------------------------

services = pytest.mark.services


@pytest.fixture
def db_task(task: Task, mysql: MySQL, empty_database: str) -> Task:
    task.env |= {"MOODLE_DB_PORT": str(mysql.port), "MOODLE_DB_NAME": empty_database}
    return task


@services
def test_database_wait_times_out(task: Task) -> None:
    started = time.monotonic()

    result = task.run("install-or-upgrade", MOODLE_DB_PORT=str(free_port()), MOODLE_DB_WAIT_SECONDS="2")

    assert result.returncode == EXIT_DATABASE_TIMEOUT
    assert "was not reachable within 2 s" in result.stderr
    assert "waiting for the database" in result.stderr
    assert time.monotonic() - started < 10


@services
def test_a_database_that_accepts_but_never_answers_is_a_timeout(db_task: Task, mysql: MySQL) -> None:
    """A stopped server process: the kernel accepts, nothing answers, not even the handshake's greeting."""
    with stalling_proxy(mysql.port) as proxy:
        proxy.stall()
        started = time.monotonic()
        result = db_task.run("install-or-upgrade", MOODLE_DB_PORT=str(proxy.port), MOODLE_DB_WAIT_SECONDS="3")
        elapsed = time.monotonic() - started

    assert result.returncode == EXIT_DATABASE_TIMEOUT, result.stderr
    assert "accepted connections but did not answer within 3 s (MOODLE_DB_WAIT_SECONDS)" in result.stderr
    # The wait, one read timeout beyond it (wait + 5 s) and the container's start.
    assert elapsed < 3 + 5 + 10
    assert db_task.events() == []


def stall_when(container: Container, proxy: StallingProxy, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, container.logs()[-3000:]
        time.sleep(0.1)
    proxy.stall()


@services
def test_a_database_that_stops_answering_during_the_lock_wait(db_task: Task, mysql: MySQL) -> None:
    # MySQL lock names have 64 characters at most; install-or-upgrade cuts its name there.
    holder = mysql.hold_lock(f"{db_task.env['MOODLE_DB_NAME']}.mdl_install_or_upgrade"[:64])
    try:
        with stalling_proxy(mysql.port) as proxy:
            container = db_task.start(
                "install-or-upgrade", MOODLE_DB_PORT=str(proxy.port), MOODLE_DB_WAIT_SECONDS="3",
                MOODLE_LOCK_WAIT_SECONDS="600",
            )  # fmt: skip
            try:
                stall_when(container, proxy, lambda: "waiting up to 600 s for the lock" in container.logs())
                status = container.wait(timeout=40)
                logs = container.logs()
            finally:
                container.remove()
    finally:
        holder.kill()
        holder.wait()

    assert status == EXIT_DATABASE_TIMEOUT, logs
    assert "stopped answering while waiting for the lock 't_" in logs
    assert "no reply within 3 s" in logs


@services
def test_a_database_that_stops_answering_while_moodle_installs(db_task: Task, mysql: MySQL) -> None:
    """Moodle's own connection has no read timeout: install-or-upgrade notices on its lock connection and
    stops the script."""
    with stalling_proxy(mysql.port) as proxy:
        container = db_task.start(
            "install-or-upgrade", MOODLE_DB_PORT=str(proxy.port), MOODLE_DB_WAIT_SECONDS="3",
            FAKE_STEP_SECONDS="300",
        )  # fmt: skip
        try:
            stall_when(container, proxy, lambda: bool(db_task.events()))
            status = container.wait(timeout=40)
            logs = container.logs()
        finally:
            container.remove()

    assert status == EXIT_DATABASE_TIMEOUT, logs
    assert "stopped answering while admin/cli/install_database.php ran (stopped it)" in logs
    assert [event.split()[:2] for event in db_task.events()] == [["install", "start"]]


@services
def test_wrong_credentials_fail_at_once(db_task: Task) -> None:
    result = db_task.run("install-or-upgrade", MOODLE_DB_PASSWORD="wrong")

    assert result.returncode == EXIT_CONFIG
    assert "refused the configured credentials" in result.stderr


@services
def test_first_run_installs_and_the_second_only_checks(db_task: Task) -> None:
    first = db_task.run("install-or-upgrade", FAKE_RUN_ID="first")
    second = db_task.run("install-or-upgrade", FAKE_RUN_ID="second")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    install, *rest = db_task.events("first")
    assert install == (
        "install start --agree-license --adminuser=admin --adminpass=Admin-Password-1"
        " --adminemail=admin@example.com --fullname=Image Test Site --shortname=imagetest"
    )
    assert rest == ["install end", "configure-cache", "check-settings"]
    assert db_task.events("second") == ["upgrade-plan", "is-pending", "configure-cache", "check-settings"]


@services
def test_concurrent_runs_install_exactly_once(db_task: Task) -> None:
    containers = {
        name: db_task.start("install-or-upgrade", FAKE_RUN_ID=name, FAKE_STEP_SECONDS="1")
        for name in ("a", "b")
    }
    try:
        statuses = {name: container.wait(timeout=60) for name, container in containers.items()}
    finally:
        for container in containers.values():
            container.remove()

    assert statuses == {"a": 0, "b": 0}
    log = db_task.log_entries()
    installs = [entry for entry in log if str(entry["event"]).startswith("install start")]
    assert len(installs) == 1
    installer = installs[0]["run"]
    waiter = "b" if installer == "a" else "a"
    assert db_task.events(waiter) == ["upgrade-plan", "is-pending", "configure-cache", "check-settings"]
    # The waiter started only after the installer had finished everything it does under the lock.
    installer_done = max(float(e["time"]) for e in log if e["run"] == installer)
    waiter_started = min(float(e["time"]) for e in log if e["run"] == waiter)
    assert waiter_started > installer_done


@services
def test_lock_timeout(db_task: Task, mysql: MySQL) -> None:
    holder = mysql.hold_lock(f"{db_task.env['MOODLE_DB_NAME']}.mdl_install_or_upgrade")
    try:
        result = db_task.run("install-or-upgrade", MOODLE_LOCK_WAIT_SECONDS="1")
    finally:
        holder.kill()
        holder.wait()

    assert result.returncode == EXIT_LOCK_TIMEOUT
    assert "held the lock" in result.stderr
    assert db_task.events() == []


@services
def test_install_needs_the_admin_and_site_variables(db_task: Task) -> None:
    del db_task.env["MOODLE_ADMIN_PASSWORD"]
    del db_task.env["MOODLE_SITE_SHORTNAME"]

    result = db_task.run("install-or-upgrade")

    assert result.returncode == EXIT_CONFIG
    assert "MOODLE_ADMIN_PASSWORD, MOODLE_SITE_SHORTNAME" in result.stderr
    assert db_task.events() == []


@services
def test_failed_install(db_task: Task) -> None:
    result = db_task.run("install-or-upgrade", FAKE_INSTALL_STATUS="1")

    assert result.returncode == EXIT_INSTALL_OR_UPGRADE_FAILED
    assert "install_database.php failed with status 1" in result.stderr
    assert "configure-cache" not in db_task.events()


@services
def test_pending_upgrade_is_run(db_task: Task) -> None:
    assert db_task.run("install-or-upgrade").returncode == 0

    result = db_task.run("install-or-upgrade", FAKE_RUN_ID="upgrade", FAKE_UPGRADE_PENDING="1")

    assert result.returncode == 0, result.stderr
    assert db_task.events("upgrade") == [
        "upgrade-plan",
        "is-pending",
        "maintenance --enable",
        "upgrade --non-interactive",
        "maintenance --disable",
        "configure-cache",
        "check-settings",
    ]


@services
def test_failed_upgrade(db_task: Task) -> None:
    assert db_task.run("install-or-upgrade").returncode == 0

    result = db_task.run("install-or-upgrade", FAKE_UPGRADE_PENDING="1", FAKE_UPGRADE_STATUS="1")

    assert result.returncode == EXIT_INSTALL_OR_UPGRADE_FAILED
    assert "upgrade.php failed with status 1" in result.stderr
    assert "MAINTENANCE LEFT ON: the upgrade failed half-way" in result.stderr


@services
def test_failed_cache_setup(db_task: Task) -> None:
    result = db_task.run("install-or-upgrade", FAKE_CONFIGURE_CACHE_STATUS="1")

    assert result.returncode == EXIT_CACHE_SETUP_FAILED
    assert "configuring the Redis cache store failed" in result.stderr


@services
def test_forced_settings_moodle_does_not_know_fail_the_run(db_task: Task) -> None:
    result = db_task.run("install-or-upgrade", FAKE_CHECK_SETTINGS_STATUS=str(EXIT_UNKNOWN_SETTINGS))

    assert result.returncode == EXIT_UNKNOWN_SETTINGS
    assert "cdk.json forces settings that Moodle does not know" in result.stderr
    assert db_task.events()[-1] == "check-settings"


@pytest.fixture
def prepared_task(db_task: Task) -> Task:
    """A task whose database and data directory install-or-upgrade has prepared, as before every rollout."""
    installed = db_task.run("install-or-upgrade", FAKE_RUN_ID="install")
    assert installed.returncode == 0, installed.stderr
    db_task.env["FAKE_RUN_ID"] = "test"
    return db_task


@services
def test_cron_once_runs_every_due_task_once(prepared_task: Task) -> None:
    result = prepared_task.run("cron", "--once")

    assert result.returncode == 0, result.stderr
    assert prepared_task.events("test") == ["cron --keep-alive=0"]


@services
def test_cron_once_returns_crons_failure(prepared_task: Task) -> None:
    assert prepared_task.run("cron", "--once", FAKE_CRON_STATUS="1").returncode == 1


@services
def test_cron_loop_stops_the_container_when_cron_fails(prepared_task: Task) -> None:
    result = prepared_task.run("cron", FAKE_CRON_STATUS="3", MOODLE_CRON_KEEP_ALIVE_SECONDS="60")

    assert result.returncode == 3
    assert prepared_task.events("test") == ["cron --keep-alive=60"]
    assert "cron exited with status 3" in result.stderr


@services
def test_cron_loop_restarts_cron_until_stopped(prepared_task: Task) -> None:
    container = prepared_task.start("cron")
    try:
        deadline = time.monotonic() + 20
        while len(prepared_task.events("test")) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)

        assert container.stop() == 0, container.logs()
    finally:
        container.remove()
    assert len(prepared_task.events("test")) >= 2
    assert set(prepared_task.events("test")) == {"cron --keep-alive=180"}


@services
@pytest.mark.parametrize("command", [["web"], ["cron"], ["cron", "--once"]], ids=" ".join)
def test_web_and_cron_refuse_a_data_directory_install_or_upgrade_never_prepared(
    db_task: Task, command: list[str]
) -> None:
    result = db_task.run(*command)

    assert result.returncode == EXIT_DATAROOT_NOT_PREPARED
    assert "was never prepared by install-or-upgrade" in result.stderr
    assert "Run install-or-upgrade" in result.stderr


@services
def test_web_refuses_a_data_directory_prepared_for_another_database(prepared_task: Task) -> None:
    result = prepared_task.run("cron", "--once", MOODLE_DB_NAME="another_site")

    assert result.returncode == EXIT_DATAROOT_NOT_PREPARED
    assert f"prepared for the database 127.0.0.1:{prepared_task.env['MOODLE_DB_PORT']}/" in result.stderr
    assert "/another_site (prefix mdl_)" in result.stderr


# --- An install stopped part-way -----------------------------------------------------------------------


def tables(mysql: MySQL, database: str) -> dict[str, int]:
    names = mysql.sql(
        f"SELECT table_name FROM information_schema.tables WHERE table_schema = '{database}'"
    ).split()
    return {name: int(mysql.sql(f"SELECT COUNT(*) FROM {database}.{name}")) for name in names}


def leave_an_unfinished_install(mysql: MySQL, database: str, *, users: int) -> None:
    """What a first install stopped part-way leaves: Moodle's tables without 'rolesactive'."""
    mysql.sql(
        f"USE {database};"
        "CREATE TABLE mdl_config (name VARCHAR(100) PRIMARY KEY, value TEXT);"
        "INSERT INTO mdl_config VALUES ('version', '2025100606.00');"
        "CREATE TABLE mdl_user (id INT PRIMARY KEY);"
        + "".join(f"INSERT INTO mdl_user VALUES ({n});" for n in range(1, users + 1))
        + "CREATE TABLE mdl_course (id INT PRIMARY KEY); INSERT INTO mdl_course VALUES (1);"
        # Another application's tables in the same database.
        "CREATE TABLE other_config (name VARCHAR(100));"
    )


@services
def test_unfinished_first_install_is_cleared_and_installed_again(db_task: Task, mysql: MySQL) -> None:
    database = db_task.env["MOODLE_DB_NAME"]
    leave_an_unfinished_install(mysql, database, users=2)
    make_runtime_dir(db_task.dataroot / "muc")
    (db_task.dataroot / "muc" / "config.php").write_text("<?php // half written\n")

    result = db_task.run("install-or-upgrade", FAKE_RUN_ID="recovery")

    assert result.returncode == 0, result.stderr
    assert "found an unfinished first install (3 tables with the prefix 'mdl_', no 'rolesactive')" in (
        result.stderr
    )
    assert db_task.events("recovery")[0].startswith("install start")
    assert tables(mysql, database) == {"mdl_config": 2, "other_config": 0}
    [aside] = db_task.dataroot.glob(".unfinished-install-*")
    assert (aside / "muc" / "config.php").read_text() == "<?php // half written\n"
    assert (db_task.dataroot / "moodle-image-site.json").exists()
    assert db_task.run("cron", "--once").returncode == 0


def open_orphaned_session(mysql: MySQL, database: str) -> tuple[subprocess.Popen[str], str]:
    """A session of the stopped install: an open transaction that holds a metadata lock on mdl_config."""
    orphan = mysql.start_client(
        database, "-e",
        "SELECT CONNECTION_ID(); START TRANSACTION; SELECT COUNT(*) FROM mdl_config; SELECT SLEEP(600);",
        as_moodle_user=True,
    )  # fmt: skip
    assert orphan.stdout is not None
    return orphan, orphan.stdout.readline().strip()


def end_orphaned_session(mysql: MySQL, orphan: subprocess.Popen[str], session: str) -> None:
    """Ends the session on the server too: the client inside the container outlives the host's podman exec,
    and its open transaction would hold up the test database's removal."""
    orphan.kill()
    with contextlib.suppress(AssertionError):
        mysql.sql(f"KILL {session}")


def record_install_session(task: Task, session: str) -> None:
    """What config.php records for Moodle's installer (MOODLE_INSTALL_SESSIONS_FILE) before it was stopped."""
    (task.dataroot / "install-database-sessions.txt").write_text(f"{session}\n")


@services
def test_sessions_left_by_the_stopped_install_are_ended_before_the_drops(db_task: Task, mysql: MySQL) -> None:
    """The stopped task's connection still holds a metadata lock (an open transaction): the drops would
    wait for it forever, or race with its statements."""
    database = db_task.env["MOODLE_DB_NAME"]
    leave_an_unfinished_install(mysql, database, users=2)
    orphan, session = open_orphaned_session(mysql, database)
    record_install_session(db_task, session)
    try:
        result = db_task.run("install-or-upgrade", FAKE_RUN_ID="recovery", timeout=120)
        ended = orphan.wait(timeout=30)
    finally:
        end_orphaned_session(mysql, orphan, session)

    assert result.returncode == 0, result.stderr
    assert f"ending 1 database session(s) left by the stopped install: {session}" in result.stderr
    assert ended != 0, "the orphaned session was killed"


@services
def test_the_recovery_ends_only_the_stopped_installs_sessions_not_a_waiting_runs(
    db_task: Task, mysql: MySQL
) -> None:
    """Two runs queued on the lock after a stopped install: the winner ends the install's session and
    never the other run's connection; both succeed, and Moodle is installed once."""
    database = db_task.env["MOODLE_DB_NAME"]
    leave_an_unfinished_install(mysql, database, users=2)
    orphan, session = open_orphaned_session(mysql, database)
    record_install_session(db_task, session)
    holder = mysql.hold_lock(f"{database}.mdl_install_or_upgrade"[:64])
    containers = {name: db_task.start("install-or-upgrade", FAKE_RUN_ID=name) for name in ("a", "b")}
    try:
        deadline = time.monotonic() + 60
        while not all("waiting up to" in container.logs() for container in containers.values()):
            assert time.monotonic() < deadline, "the runs did not queue on the lock"
            time.sleep(0.2)
        holder.kill()
        holder.wait()
        statuses = {name: container.wait(timeout=120) for name, container in containers.items()}
        logs = {name: container.logs() for name, container in containers.items()}
        ended = orphan.wait(timeout=30)
    finally:
        for container in containers.values():
            container.remove()
        end_orphaned_session(mysql, orphan, session)
        holder.kill()

    assert statuses == {"a": 0, "b": 0}, logs
    assert ended != 0, "the stopped install's session was ended"
    assert len([entry for entry in db_task.events() if entry.startswith("install start")]) == 1
    assert (
        sum("ending 1 database session(s) left by the stopped install" in log for log in logs.values()) == 1
    )


@services
def test_a_session_nobody_recorded_that_locks_a_table_stops_the_recovery_in_time(
    db_task: Task, mysql: MySQL
) -> None:
    """Without a record (an operator's client), the session is not ended, and the drops wait only so long."""
    database = db_task.env["MOODLE_DB_NAME"]
    leave_an_unfinished_install(mysql, database, users=2)
    orphan, session = open_orphaned_session(mysql, database)
    try:
        result = db_task.run("install-or-upgrade", MOODLE_DB_WAIT_SECONDS="3", timeout=60)
        assert orphan.poll() is None, "a session nobody recorded was ended"
    finally:
        end_orphaned_session(mysql, orphan, session)

    assert result.returncode == EXIT_INSTALL_OR_UPGRADE_FAILED, result.stderr
    assert "waited 3 s for a lock another database session holds" in result.stderr
    assert db_task.events() == []


@services
def test_a_completed_install_is_never_touched(db_task: Task, mysql: MySQL) -> None:
    database = db_task.env["MOODLE_DB_NAME"]
    leave_an_unfinished_install(mysql, database, users=2)
    mysql.sql(f"INSERT INTO {database}.mdl_config VALUES ('rolesactive', '1')")
    before = tables(mysql, database)

    result = db_task.run("install-or-upgrade", FAKE_RUN_ID="again")

    assert result.returncode == 0, result.stderr
    assert db_task.events("again") == ["upgrade-plan", "is-pending", "configure-cache", "check-settings"]
    assert tables(mysql, database) == before
    assert not list(db_task.dataroot.glob(".unfinished-install-*"))


@services
def test_an_unfinished_install_holding_site_data_is_refused(db_task: Task, mysql: MySQL) -> None:
    database = db_task.env["MOODLE_DB_NAME"]
    leave_an_unfinished_install(mysql, database, users=3)
    before = tables(mysql, database)

    result = db_task.run("install-or-upgrade")

    assert result.returncode == EXIT_UNFINISHED_INSTALL_HOLDS_DATA
    assert "holds an unfinished Moodle install" in result.stderr
    assert "3 rows in mdl_user" in result.stderr
    assert "drop its tables with the prefix 'mdl_'" in result.stderr
    assert tables(mysql, database) == before
    assert db_task.events() == []


@services
def test_a_stale_upgrade_flag_is_cleared_before_upgrading(prepared_task: Task, mysql: MySQL) -> None:
    database = prepared_task.env["MOODLE_DB_NAME"]
    mysql.sql(f"INSERT INTO {database}.mdl_config VALUES ('upgraderunning', UNIX_TIMESTAMP() + 300)")

    result = prepared_task.run("install-or-upgrade", FAKE_UPGRADE_PENDING="1")

    assert result.returncode == 0, result.stderr
    assert prepared_task.events("test") == [
        "clear-upgrade-flag", "upgrade-plan", "is-pending", "maintenance --enable",
        "upgrade --non-interactive", "maintenance --disable", "configure-cache", "check-settings",
    ]  # fmt: skip


# --- Plugins in the database that the image lacks -------------------------------------------------------


def plan_of(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    [line] = [line for line in result.stderr.splitlines() if line.startswith("install-or-upgrade: plan ")]
    plan: dict[str, object] = json.loads(line.removeprefix("install-or-upgrade: plan "))
    return plan


@services
@pytest.mark.parametrize("step", ["all", "upgrade", "plan"])
def test_a_plugin_the_image_lacks_is_refused_before_anything_changes(prepared_task: Task, step: str) -> None:
    result = prepared_task.run(
        "install-or-upgrade", FAKE_MISSING_PLUGINS="mod_customcert", MOODLE_INSTALL_OR_UPGRADE_STEP=step
    )

    assert result.returncode == EXIT_MISSING_PLUGINS, result.stderr
    assert "the database holds add-on plugins this image lacks: mod_customcert (version 2024010100)" in (
        result.stderr
    )
    assert "list them, subplugins included, in moodle.uninstall_plugins" in result.stderr
    assert prepared_task.events("test") == ["upgrade-plan"]
    assert not (prepared_task.dataroot / "climaintenance.html").exists()


@services
def test_the_plan_names_missing_plugins_and_those_it_will_uninstall(prepared_task: Task) -> None:
    result = prepared_task.run(
        "install-or-upgrade", FAKE_MISSING_PLUGINS="mod_customcert", MOODLE_INSTALL_OR_UPGRADE_STEP="plan",
        MOODLE_UNINSTALL_PLUGINS="mod_customcert,block_gone",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    plan = plan_of(result)
    # An uninstall changes the schema: the deploy snapshots the database first, as for an upgrade.
    assert plan["action"] == "upgrade"
    assert plan["missing"] == [{"component": "mod_customcert", "from": "2024010100", "to": None}]
    assert plan["uninstall"] == ["mod_customcert"]


@services
@pytest.mark.parametrize("step", ["all", "upgrade"])
def test_a_listed_plugin_is_uninstalled_behind_the_maintenance_page(prepared_task: Task, step: str) -> None:
    result = prepared_task.run(
        "install-or-upgrade", FAKE_MISSING_PLUGINS="mod_customcert", MOODLE_INSTALL_OR_UPGRADE_STEP=step,
        MOODLE_UNINSTALL_PLUGINS="mod_customcert, block_gone",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    lifted = ["maintenance --disable"] if step == "all" else []
    assert prepared_task.events("test") == [
        "upgrade-plan", "maintenance --enable", "uninstall-plugins mod_customcert", "is-pending", *lifted,
        "configure-cache", "check-settings",
    ]  # fmt: skip
    assert (prepared_task.dataroot / "climaintenance.html").exists() == (step == "upgrade")


@services
def test_a_failed_uninstall_leaves_the_maintenance_page_on(prepared_task: Task) -> None:
    result = prepared_task.run(
        "install-or-upgrade", FAKE_MISSING_PLUGINS="mod_customcert",
        MOODLE_UNINSTALL_PLUGINS="mod_customcert", FAKE_UNINSTALL_PLUGINS_STATUS="1",
    )  # fmt: skip

    assert result.returncode == EXIT_INSTALL_OR_UPGRADE_FAILED
    assert "MAINTENANCE LEFT ON: uninstalling plugins failed" in result.stderr
    assert (prepared_task.dataroot / "climaintenance.html").exists()


@services
def test_listed_plugins_that_are_gone_already_change_nothing(prepared_task: Task) -> None:
    result = prepared_task.run("install-or-upgrade", MOODLE_UNINSTALL_PLUGINS="mod_customcert")

    assert result.returncode == 0, result.stderr
    assert prepared_task.events("test") == ["upgrade-plan", "is-pending", "configure-cache", "check-settings"]


@services
def test_an_invalid_uninstall_list_is_a_configuration_error(prepared_task: Task) -> None:
    result = prepared_task.run("install-or-upgrade", MOODLE_UNINSTALL_PLUGINS="mod_customcert,Mod Bad")

    assert result.returncode == EXIT_CONFIG
    assert "MOODLE_UNINSTALL_PLUGINS: 'Mod Bad' is no plugin component name" in result.stderr
