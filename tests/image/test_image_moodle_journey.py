"""The browser journey against real Moodle in the built image (opt-in: MOODLE_SRC; docs/JOURNEY.md):
install-or-upgrade creates the monitoring user and its course, headless Chromium logs in and walks the
journey, and two negative controls break a page the way a bad release would (a script that answers 404,
a script that throws) and see the journey fail. Screenshots stay in test-artifacts/journey/."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from moodle_infra import image_contract
from smoke.report import Outcome
from tests.image.container import Container
from tests.image.image_testlib import Redis
from tests.image.journey_testlib import failure, journey, screenshot_dir
from tests.image.mysql_server import MySQL
from tests.image.real_moodle import RealImage
from tests.image.test_image_moodle import Deployment, new_deployment

pytestmark = [pytest.mark.moodle, pytest.mark.services, pytest.mark.container]

PASSWORD = "Monitor-Password-1!"
INSTALL = image_contract.COMMAND_INSTALL_OR_UPGRADE


@dataclass
class JourneySite:
    image: RealImage
    deployment: Deployment
    web: Container
    install_output: str

    def php(self, code: str) -> subprocess.CompletedProcess[str]:
        """PHP run by the image's CLI after Moodle's full bootstrap."""
        bootstrap = "define('CLI_SCRIPT', true); require getenv('MOODLE_DIR') . '/config.php';"
        return self.deployment.run(self.image.tag, "php", "-r", bootstrap + code, timeout=120)

    def set_config(self, name: str, value: str) -> None:
        result = self.php(f"set_config({json.dumps(name)}, {json.dumps(value)});")
        assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def site(
    real_image: RealImage, mysql: MySQL, redis_tls: Redis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[JourneySite]:
    root = tmp_path_factory.mktemp("journey")
    root.chmod(0o755)
    deployment = new_deployment("moodle_journey", root, mysql, redis_tls)
    deployment.env["MOODLE_MONITOR_PASSWORD"] = PASSWORD
    installed = deployment.timed("install-or-upgrade (install)", real_image.tag, INSTALL)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    web = deployment.start_web(real_image.tag, "web")
    yield JourneySite(real_image, deployment, web, installed.stdout)
    logs = web.logs()
    web.stop()
    web.remove()
    print(f"\nmeasurements ({real_image.release}): " + json.dumps(deployment.measurements, indent=2))
    assert "PHP Fatal error" not in logs, logs[-3000:]
    mysql.sql("DROP DATABASE moodle_journey")


def test_install_creates_the_monitoring_user_and_its_course(site: JourneySite) -> None:
    assert "Created the monitoring user monitor" in site.install_output
    assert "Created the monitoring course monitoring" in site.install_output
    assert "Enrolled monitor in monitoring as a student" in site.install_output


def test_the_journey_passes_in_headless_chromium(site: JourneySite) -> None:
    screenshots = screenshot_dir("moodle-passes")

    results = journey(password=PASSWORD, screenshots=screenshots)

    for result in results:
        site.deployment.measurements[f"journey step {result.name}"] = f"{result.seconds:.2f} s"
    site.deployment.measurements["journey total"] = f"{sum(r.seconds for r in results):.2f} s"
    assert {result.outcome for result in results} == {Outcome.PASS}, results
    assert len(list(screenshots.glob("*.png"))) == len(results)


def test_the_monitoring_user_sees_its_course_and_nothing_else(site: JourneySite) -> None:
    result = site.php(
        "$user = core_user::get_user_by_username('monitor');"
        "$course = get_course($DB->get_field('course', 'id', ['shortname' => 'monitoring']));"
        "$courses = enrol_get_all_users_courses($user->id, true);"
        "$hidden = 'moodle/course:viewhiddencourses';"
        "echo json_encode(['courses' => array_values(array_map(fn($c) => $c->shortname, $courses)),"
        " 'visible' => (int) $course->visible,"
        " 'system_caps' => has_capability($hidden, context_system::instance(), $user),"
        " 'course_caps' => has_capability($hidden, context_course::instance($course->id), $user),"
        " 'site_admin' => is_siteadmin($user)]);",
    )

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["courses"] == ["monitoring"]
    assert seen["visible"] == 0, "nobody else sees the course"
    assert seen["course_caps"] is True
    assert seen["system_caps"] is False
    assert seen["site_admin"] is False


def test_a_second_install_or_upgrade_keeps_the_monitoring_user(site: JourneySite) -> None:
    again = site.deployment.run(site.image.tag, INSTALL)

    assert again.returncode == 0, again.stderr[-3000:]
    assert "The monitoring user monitor and its course monitoring are ready" in again.stdout
    assert "Created" not in again.stdout.replace("Created the cache store", "")


@pytest.mark.parametrize(
    ("setting", "html", "expected"),
    [
        (
            "additionalhtmlfooter",
            '<script src="/lib/amd/build/journey-missing.min.js"></script>',
            "http: 404 http://127.0.0.1:8080/lib/amd/build/journey-missing.min.js",
        ),
        (
            "additionalhtmlhead",
            '<script>throw new Error("injected by the test")</script>',
            "injected by the test",
        ),
    ],
    ids=["script-answers-404", "script-error"],
)
def test_a_broken_page_fails_the_journey(site: JourneySite, setting: str, html: str, expected: str) -> None:
    site.set_config(setting, html)
    try:
        results = journey(password=PASSWORD, screenshots=screenshot_dir(f"moodle-{setting}"))
    finally:
        site.set_config(setting, "")

    failed = failure(results)
    assert failed.name == "login_page"
    assert expected in failed.message
