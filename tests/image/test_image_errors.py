"""Every failure of the image's CLI scripts speaks (issue 22), with the fake Moodle release: an error nobody
caught or a PHP fatal error ends the script with one plain line on stderr that names the script and the
reason, and with an exit code of docs/IMAGE.md's table, even where Moodle's bootstrap has turned error
reporting off. The scripts that need Moodle's full bootstrap are forced to fail against real Moodle in
test_image_moodle_errors.py; the table itself is checked in test_image_exit_codes.py.
"""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest

from moodle_infra import image_contract
from tests.image.container import Mount, run_container, start_web
from tests.image.errors_testlib import (
    HANDLER_CALL,
    HELPER_DIR,
    PLAN_LEAVES_THE_FLAG,
    before_the_fix,
    config_php_before_the_fix,
    disabled_function_env,
    documented_exit_codes,
    error_lines,
    write_world_readable,
)
from tests.image.image_testlib import EXIT_DATABASE_TIMEOUT, IMAGE_DIR, moodle_env
from tests.image.mysql_server import MySQL
from tests.image.test_image_config_php import REQUIRED
from tests.image.test_image_entrypoint import Task, db_task, prepared_task, task

pytestmark = pytest.mark.container

__all__ = ["db_task", "prepared_task", "task"]  # the fixtures, imported

EXIT_UNEXPECTED = 1
"""docs/IMAGE.md: an unexpected failure (image/bin/cli-errors.php)."""
SILENT_FATAL = 255
"""PHP's own status after a fatal error: in no table, and with error_reporting at 0 nothing is printed."""

# What Moodle's bootstrap does on a production site ($CFG->debug = 0) before a script's own code runs.
MOODLE_SILENCES_ERRORS = "error_reporting(0);"


def php(image: str, root: Path, code: str) -> tuple[int, str, str]:
    """Runs `code` as a script file in the image (php -r never calls an exception handler)."""
    script = write_world_readable(root / "forced" / "script.php", f"<?php\n{code}\n")
    result = run_container(
        image, "php", "-d", "memory_limit=16M", "/run/forced/script.php",
        env=moodle_env(), mounts=[(script.parent, "/run/forced", "ro")],
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize(
    "failure",
    [
        "nosuchfunction();",
        "throw new RuntimeException('<p>Broken</p><p>twice</p>');",
        "str_repeat('x', 1 << 26);",
    ],
    ids=["undefined-function", "uncaught-exception", "out-of-memory"],
)
def test_a_failure_after_moodle_silenced_errors_is_one_plain_line_and_exit_1(
    fake_image: str, world_tmp: Path, failure: str
) -> None:
    handlers = f"require '{HELPER_DIR}/cli-errors.php'; moodle_image_report_errors();"
    reported = f"{handlers} {MOODLE_SILENCES_ERRORS} {failure}"
    silent = f"{MOODLE_SILENCES_ERRORS} {failure}"

    status, stdout, stderr = php(fake_image, world_tmp, reported)
    control_status, _, control_stderr = php(fake_image, world_tmp, silent)

    assert status == EXIT_UNEXPECTED
    assert EXIT_UNEXPECTED in documented_exit_codes()
    [line] = stderr.splitlines()
    assert line.startswith("script: ERROR: ")
    assert "<" not in line
    assert stdout == ""
    # Negative control: without the handlers, exactly what the issue saw: 255 and not a word.
    assert (control_status, control_stderr) == (SILENT_FATAL, "")


def test_the_reason_is_in_the_line(fake_image: str, world_tmp: Path) -> None:
    code = (
        f"require '{HELPER_DIR}/cli-errors.php'; moodle_image_report_errors(); error_reporting(0);"
        "throw new RuntimeException('<p>Broken</p><p>twice</p>');"
    )

    _, _, stderr = php(fake_image, world_tmp, code)

    assert stderr == "script: ERROR: uncaught RuntimeException: Broken twice at /run/forced/script.php:2\n"


def run_without(task: Task, root: Path, function: str, *command: str) -> tuple[int, str]:
    env, mount = disabled_function_env(root, function)
    result = run_container(
        task.image, *command, env={**task.env, **env}, mounts=[*task.mounts(), mount], timeout=60
    )
    return result.returncode, result.stderr


def run_old_script(task: Task, root: Path, script: str, function: str, *command: str) -> tuple[int, str]:
    """The same forced failure with the script as it was before it reported its errors."""
    old = before_the_fix((IMAGE_DIR / "bin" / script).read_text(), HANDLER_CALL)
    old_path = write_world_readable(root / "old" / script, old)
    env, mount = disabled_function_env(root, function)
    result = run_container(
        task.image, *command,
        env={**task.env, **env}, mounts=[*task.mounts(), mount, (old_path, f"{HELPER_DIR}/{script}", "ro")],
        timeout=60,
    )  # fmt: skip
    return result.returncode, result.stderr


@pytest.mark.services
def test_install_or_upgrade_reports_an_uncaught_error(db_task: Task, world_tmp: Path) -> None:
    status, stderr = run_without(db_task, world_tmp, "mysqli_init", "install-or-upgrade")
    old_status, _ = run_old_script(
        db_task, world_tmp, "install-or-upgrade.php", "mysqli_init", "install-or-upgrade"
    )

    assert status == EXIT_UNEXPECTED
    [line] = error_lines(stderr, "install-or-upgrade")
    assert "uncaught Error: Call to undefined function mysqli_init() at " in line
    assert f"{HELPER_DIR}/install-or-upgrade.php:" in line
    assert old_status == SILENT_FATAL, "negative control: the script without its handler"


@pytest.mark.services
def test_writing_the_site_marker_reports_an_uncaught_error(db_task: Task, world_tmp: Path) -> None:
    status, stderr = run_without(db_task, world_tmp, "getmypid", "install-or-upgrade")

    assert status == EXIT_UNEXPECTED
    [line] = error_lines(stderr, "install-or-upgrade")
    assert "Call to undefined function getmypid()" in line
    assert f"{HELPER_DIR}/site-marker.php:" in line


@pytest.mark.services
def test_preflight_reports_an_uncaught_error_and_web_stops_with_its_code(
    prepared_task: Task, world_tmp: Path
) -> None:
    status, stderr = run_without(prepared_task, world_tmp, "array_intersect_key", "web")
    old_status, _ = run_old_script(prepared_task, world_tmp, "preflight.php", "array_intersect_key", "web")

    assert status == EXIT_UNEXPECTED
    [line] = error_lines(stderr, "preflight")
    assert "Call to undefined function array_intersect_key()" in line
    assert old_status == SILENT_FATAL, "negative control: the script without its handler"


@pytest.mark.services
def test_cron_reports_an_uncaught_error_of_moodles_cron_script(prepared_task: Task, world_tmp: Path) -> None:
    """The fake cron.php calls microtime(); Moodle's would be the same script behind the wrapper."""
    status, stderr = run_without(prepared_task, world_tmp, "microtime", "cron", "--once")

    assert status == EXIT_UNEXPECTED
    [line] = error_lines(stderr, "cron")
    assert "uncaught Error: Call to undefined function microtime()" in line


# --- config.php: Moodle's bootstrap throws ---------------------------------------------------------------

# Moodle's lib/setup.php as it fails: setup_DB() throws dml_connection_exception with the driver's error as
# the first line of its debug information, or anything else throws.
FAILING_SETUP = """<?php
if (defined('ABORT_AFTER_CONFIG')) { return; }
class dml_connection_exception extends Exception {
    public $debuginfo = "Connection refused\\n#0 stack trace";
    public function __construct() { parent::__construct('<p>Error: Database connection failed</p>'); }
}
if (getenv('SETUP_FAILURE') === 'database') { throw new dml_connection_exception(); }
throw new LogicException('<p>Something else</p>');
"""


@pytest.mark.parametrize(
    ("failure", "status", "reason"),
    [
        ("database", EXIT_DATABASE_TIMEOUT, "the database at db.internal:3306 is not reachable: Connection"),
        ("other", EXIT_UNEXPECTED, "uncaught LogicException: Something else at "),
    ],
)
def test_a_failing_bootstrap_is_one_plain_line_on_stderr(
    fake_image: str, world_tmp: Path, failure: str, status: int, reason: str
) -> None:
    setup = write_world_readable(world_tmp / "setup" / "setup.php", FAILING_SETUP)

    # Any script that bootstraps Moodle fully: the image's upgrade-plan, or Moodle's cron behind cron.php.
    result = run_container(
        fake_image, "php", f"{HELPER_DIR}/upgrade-plan.php",
        env={**REQUIRED, "SETUP_FAILURE": failure},
        mounts=[(setup, "/var/www/moodle/lib/setup.php", "ro")],
    )  # fmt: skip

    assert result.returncode == status
    assert status in documented_exit_codes()
    [line] = result.stderr.splitlines()
    assert line.startswith(f"upgrade-plan: ERROR: {reason}")
    assert result.stdout == ""


PAGE = "<?php\nrequire '/var/www/moodle/config.php';\necho 'page';\n"
"""A Moodle page: it starts with config.php."""


@pytest.mark.services
def test_a_page_whose_database_cannot_be_reached_answers_the_outage_503(
    prepared_task: Task, world_tmp: Path
) -> None:
    setup = write_world_readable(world_tmp / "setup" / "setup.php", FAILING_SETUP)
    page = write_world_readable(world_tmp / "page" / "page.php", PAGE)
    old_config = write_world_readable(world_tmp / "old" / "config.php", config_php_before_the_fix())
    mounts: list[Mount] = [
        *prepared_task.mounts(),
        (setup, "/var/www/moodle/lib/setup.php", "ro"),
        (page, "/var/www/moodle/public/page.php", "ro"),
    ]
    env = {**prepared_task.env, "SETUP_FAILURE": "database"}
    answers = {}
    for name, extra in (("shipped", None), ("before the fix", old_config)):
        config_mount: list[Mount] = [(extra, "/var/www/moodle/config.php", "ro")] if extra else []
        web = start_web(prepared_task.image, env=env, mounts=[*mounts, *config_mount])
        try:
            answers[name] = web_get("/page.php")
        finally:
            web.remove()

    status, headers, body = answers["shipped"]
    assert status == 503
    assert headers["retry-after"] == "5"
    assert headers["cache-control"] == "no-store"
    assert body == "The site is briefly unavailable. Please try again in a few seconds.\n"
    # Negative control: Moodle's own answer, a 500.
    assert answers["before the fix"][0] == 500


def web_get(path: str) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", image_contract.CONTAINER_PORT, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    headers = {name.lower(): value for name, value in response.getheaders()}
    return response.status, headers, response.read().decode(errors="replace")


# --- The plan step --------------------------------------------------------------------------------------


def plan_and_upgrade(
    task: Task, mysql: MySQL, mounts: list[tuple[Path, str, str]]
) -> tuple[list[str], list[str]]:
    """Plants a stale flag, runs the plan step and then the upgrade step: each step's calls (the fake's
    clear-upgrade-flag.php records its call and leaves the flag; test_image_moodle_errors.py checks the
    database of a real Moodle)."""
    database = task.env["MOODLE_DB_NAME"]
    mysql.sql(
        f"DELETE FROM {database}.mdl_config WHERE name = 'upgraderunning';"
        f"INSERT INTO {database}.mdl_config VALUES ('upgraderunning', UNIX_TIMESTAMP() + 300)"
    )
    (task.log_dir / "calls.jsonl").unlink(missing_ok=True)
    for step in ("plan", "upgrade"):
        result = run_container(
            task.image, "install-or-upgrade",
            # The fake upgrade-plan.php prints the plan of a site that is up to date.
            env={**task.env, "MOODLE_INSTALL_OR_UPGRADE_STEP": step, "FAKE_RUN_ID": step},
            mounts=[*task.mounts(), *mounts],
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    return task.events("plan"), task.events("upgrade")


@pytest.mark.services
def test_the_plan_step_leaves_a_stale_upgrade_flag_to_the_upgrade(
    prepared_task: Task, mysql: MySQL, world_tmp: Path
) -> None:
    shipped = (IMAGE_DIR / "bin" / "install-or-upgrade.php").read_text()
    old = write_world_readable(
        world_tmp / "old" / "install-or-upgrade.php", before_the_fix(shipped, PLAN_LEAVES_THE_FLAG)
    )

    plan, upgrade = plan_and_upgrade(prepared_task, mysql, [])
    old_plan, _ = plan_and_upgrade(
        prepared_task, mysql, [(old, f"{HELPER_DIR}/install-or-upgrade.php", "ro")]
    )

    assert plan == ["upgrade-plan"], "the plan leaves the flag alone"
    assert upgrade[0] == "clear-upgrade-flag", "the upgrade step, under the lock, clears it"
    # Negative control: the previous code's plan step cleared it.
    assert old_plan == ["clear-upgrade-flag", "upgrade-plan"]
