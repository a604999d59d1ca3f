"""The browser journey against the image built with the fake release (tests/image/fake_moodle): its
stand-in login, dashboard and course pages, AJAX endpoint and /api route. CI always runs this, with or
without a Moodle tree; the real-Moodle run is test_image_moodle_journey.py. Each negative control breaks
one thing the journey must catch and sees the journey fail there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from journey.steps import DEFAULT_BUDGETS
from moodle_infra import image_contract
from smoke.report import Outcome
from tests.image.container import run_container
from tests.image.image_testlib import EXIT_INSTALL_OR_UPGRADE_FAILED, make_runtime_dir, moodle_env
from tests.image.journey_testlib import failure, journey, outcomes, screenshot_dir
from tests.image.mysql_server import MySQL
from tests.image.test_image_web import WebTask, launch

pytestmark = [pytest.mark.container, pytest.mark.services]

PASSWORD = "Monitor-Password-1!"
FAULT_FILE = "fake-journey-fault"


@pytest.fixture(scope="module")
def web(fake_image: str, tmp_path_factory: pytest.TempPathFactory, mysql: MySQL) -> Iterator[WebTask]:
    root = tmp_path_factory.mktemp("journey")
    root.chmod(0o755)
    task = launch(fake_image, root, mysql, MOODLE_MONITOR_PASSWORD=PASSWORD)
    yield task
    task.container.remove()


@pytest.fixture
def fault(web: WebTask) -> Iterator[Path]:
    """Where a test names the fault the stand-in pages show; cleared after the test."""
    path = web.dataroot / FAULT_FILE
    yield path
    path.unlink(missing_ok=True)


def test_the_journey_passes_and_keeps_a_screenshot_per_step(web: WebTask) -> None:
    screenshots = screenshot_dir("fake-passes")

    results = journey(password=PASSWORD, screenshots=screenshots)

    assert set(outcomes(results).values()) == {Outcome.PASS}, results
    assert [path.name for path in sorted(screenshots.iterdir())] == [
        "01-login_page.png", "02-log_in.png", "03-dashboard.png", "04-course.png", "05-ajax_call.png",
        "06-api_route.png",
    ]  # fmt: skip
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in screenshots.iterdir())
    assert "7200 s left" in results[4].message
    assert "1 preferences" in results[5].message


def test_a_script_answering_404_fails_the_journey(web: WebTask, fault: Path) -> None:
    fault.write_text("missing-script")

    results = journey(password=PASSWORD, screenshots=screenshot_dir("fake-missing-script"))

    failed = failure(results)
    assert failed.name == "login_page"
    assert "http: 404 http://127.0.0.1:8080/lib/amd/build/missing.min.js" in failed.message
    assert {result.outcome for result in results[1:]} == {Outcome.SKIP}


def test_a_script_error_fails_the_journey(web: WebTask, fault: Path) -> None:
    fault.write_text("script-error")

    results = journey(password=PASSWORD, screenshots=screenshot_dir("fake-script-error"))

    failed = failure(results)
    assert failed.name == "login_page"
    assert "console:" in failed.message
    assert "Uncaught Error: injected by the test" in failed.message


def test_a_wrong_password_fails_the_login_step(web: WebTask) -> None:
    results = journey(password="wrong", screenshots=screenshot_dir("fake-wrong-password"))

    failed = failure(results)
    assert failed.name == "log_in"
    assert "no element '#user-menu-toggle'" in failed.message
    assert outcomes(results)["dashboard"] is Outcome.SKIP


def test_a_step_over_its_budget_fails(web: WebTask) -> None:
    budgets = DEFAULT_BUDGETS | {"dashboard": 0.001}

    results = journey(password=PASSWORD, screenshots=screenshot_dir("fake-budget"), budgets=budgets)

    failed = failure(results)
    assert failed.name == "dashboard"
    assert "budget 0.001s" in failed.message


# --- install-or-upgrade creates the monitoring user (image/bin/monitoring-user.php) ---------------------


def install_calls(fake_image: str, root: Path, mysql: MySQL, **overrides: str) -> tuple[int, list[str]]:
    database = f"journey_{root.name.replace('-', '_')}"[:60]
    mysql.sql(f"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database}")
    log_dir = make_runtime_dir(root / "log")
    env = moodle_env(
        MOODLE_DB_PORT=str(mysql.port),
        MOODLE_DB_NAME=database,
        FAKE_MOODLE_LOG="/fake-log/calls.jsonl",
        **overrides,
    )
    mounts = [
        (make_runtime_dir(root / "moodledata"), image_contract.SHARED_DATA_PATH),
        (log_dir, "/fake-log"),
    ]
    result = run_container(fake_image, image_contract.COMMAND_INSTALL_OR_UPGRADE, env=env, mounts=mounts)
    log = log_dir / "calls.jsonl"
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()] if log.exists() else []
    return result.returncode, events


def test_install_or_upgrade_sets_up_the_monitoring_user_when_given_its_password(
    fake_image: str, world_tmp: Path, mysql: MySQL
) -> None:
    status, events = install_calls(fake_image, world_tmp, mysql, MOODLE_MONITOR_PASSWORD=PASSWORD)

    assert status == 0
    assert events[-1] == "monitoring-user"


def test_install_or_upgrade_has_no_monitoring_user_without_its_password(
    fake_image: str, world_tmp: Path, mysql: MySQL
) -> None:
    status, events = install_calls(fake_image, world_tmp, mysql)

    assert status == 0
    assert "monitoring-user" not in events


def test_install_or_upgrade_fails_when_the_monitoring_user_cannot_be_set_up(
    fake_image: str, world_tmp: Path, mysql: MySQL
) -> None:
    status, _ = install_calls(
        fake_image, world_tmp, mysql, MOODLE_MONITOR_PASSWORD=PASSWORD, FAKE_MONITORING_USER_STATUS="1"
    )

    assert status == EXIT_INSTALL_OR_UPGRADE_FAILED
