"""The tests' MySQL (tests/image/mysql_server.py) is set up as production's RDS for MySQL: the parameter
group's settings, Moodle's user logging in with caching_sha2_password, RDS's master-user privileges."""

from __future__ import annotations

import re
import subprocess

import pytest

from moodle_infra.database_parameters import SERVER_PARAMETERS
from tests.image.mysql_server import AUTH_PLUGIN, DB_USER, MySQL

pytestmark = [pytest.mark.container, pytest.mark.services]


def as_number(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def test_the_server_runs_with_the_production_parameter_group(mysql: MySQL) -> None:
    names = list(SERVER_PARAMETERS)
    values = mysql.sql("SELECT " + ", ".join(f"@@GLOBAL.{name}" for name in names)).rstrip("\n").split("\t")

    assert {name: as_number(value) for name, value in zip(names, values, strict=True)} == {
        name: as_number(value) for name, value in SERVER_PARAMETERS.items()
    }


def test_moodle_logs_in_over_tcp_with_caching_sha2_password(mysql: MySQL) -> None:
    plugin = mysql.sql(f"SELECT plugin FROM mysql.user WHERE user = '{DB_USER}'").strip()
    who = mysql.sql("SELECT CURRENT_USER(), VERSION()")  # as root: the control for the line below
    [user, version] = mysql_as_moodle(mysql, "SELECT CURRENT_USER(), VERSION()").split("\t")

    assert plugin == AUTH_PLUGIN
    assert who.startswith("root@localhost")
    assert user == f"{DB_USER}@127.0.0.1"
    major, minor = (int(part) for part in re.findall(r"\d+", version)[:2])
    assert (major, minor) >= (8, 4), f"older than production's RDS for MySQL 8.4: {version}"


def test_moodle_may_end_its_own_sessions_but_not_others(mysql: MySQL) -> None:
    """RDS's master user has neither SUPER nor CONNECTION_ADMIN; install-or-upgrade's recovery must get by."""
    own, others = mysql.start_client(as_moodle_user=True), mysql.start_client()
    try:
        ids = {name: session_id(client) for name, client in (("own", own), ("others", others))}
        refused = mysql_as_moodle(mysql, f"KILL {ids['others']}", check=False)
        ended = mysql_as_moodle(mysql, f"KILL {ids['own']}", check=False)
    finally:
        for client in (own, others):
            client.kill()
            client.wait()

    assert "You are not owner of thread" in refused
    assert ended == ""


def mysql_as_moodle(mysql: MySQL, statement: str, *, check: bool = True) -> str:
    """A statement as Moodle's user over TCP; without `check`, the client's error instead of a failure."""
    result = mysql.container.exec(*mysql.mysql("-e", statement, as_moodle_user=True))
    if check:
        assert result.returncode == 0, result.stderr
    return result.stdout.strip() if result.returncode == 0 else result.stderr.strip()


def session_id(client: subprocess.Popen[str]) -> str:
    assert client.stdin is not None and client.stdout is not None
    client.stdin.write("SELECT CONNECTION_ID();\n")
    client.stdin.flush()
    return client.stdout.readline().strip()
