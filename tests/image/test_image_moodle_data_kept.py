"""An upgrade through the deploy's steps keeps the site's data (opt-in: MOODLE_SRC_PREVIOUS, MOODLE_SRC).

The previous release installs a site, and tests/image/moodle_data/quiz_attempt.php makes a course, a
student enrolled in it and the student's finished quiz attempt with Moodle's own APIs in that release's
image. The new release's image then runs the deploy's steps (plan, upgrade, finish: docs/UPGRADES.md) and
reads the same data back with its own APIs. With a 5.1.6 tree in MOODLE_SRC_PREVIOUS and a 5.3 tree in
MOODLE_SRC this is the move to Moodle 5.3 LTS (docs/IMAGE.md, "Moodle 5.3 LTS").
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from moodle_infra.install_upgrade import handler
from tests.image.container import run_container
from tests.image.image_testlib import Redis
from tests.image.mysql_server import MySQL
from tests.image.real_moodle import RealImage
from tests.image.test_image_moodle import Deployment, new_deployment
from tests.image.test_image_moodle_maintenance import SNAPSHOTS_ON, plan_of, step

pytestmark = [pytest.mark.moodle, pytest.mark.services, pytest.mark.container]

SCRIPTS = Path(__file__).parent / "moodle_data"
SCRIPTS_IN_CONTAINER = "/opt/moodle-test-data"


def site_data(deployment: Deployment, image: RealImage, mode: str) -> dict[str, Any]:
    """Runs quiz_attempt.php ``mode`` (make or read) in a one-off container of ``image``."""
    started = time.monotonic()
    result = run_container(
        image.tag,
        "php",
        f"{SCRIPTS_IN_CONTAINER}/quiz_attempt.php",
        mode,
        env=deployment.env,
        mounts=[*deployment.mounts(), (SCRIPTS, SCRIPTS_IN_CONTAINER, "ro")],
        timeout=600,
    )
    deployment.measurements[f"{mode} the course, student and quiz attempt ({image.release})"] = (
        f"{time.monotonic() - started:.1f} s"
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def test_an_upgrade_keeps_courses_users_and_quiz_attempts(
    previous_real_image: RealImage,
    real_image: RealImage,
    mysql: MySQL,
    redis_tls: Redis,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp("data-kept")
    root.chmod(0o755)
    deployment = new_deployment("moodle_data_kept", root, mysql, redis_tls)
    deployment.measurements.update(previous_real_image.timings | real_image.timings)
    try:
        step(deployment, previous_real_image, "all", "install")
        made = site_data(deployment, previous_real_image, "make")
        plan = plan_of(step(deployment, real_image, "plan", "upgrade deploy")[1])
        step(deployment, real_image, "upgrade", "upgrade deploy")
        _, finish_log = step(deployment, real_image, "finish", "upgrade deploy")
        kept = site_data(deployment, real_image, "read")
    finally:
        print(f"\nmeasurements (data kept): {json.dumps(deployment.measurements, indent=2)}")
        mysql.sql("DROP DATABASE IF EXISTS moodle_data_kept")

    # What was made: one finished attempt, answered right and graded, by an enrolled student.
    assert made["student"]["enrolled"] is True and made["student"]["role"] == ["student"], made
    assert made["attempts"] == 1
    assert made["attempt"]["state"] == "finished", made
    assert (made["attempt"]["sumgrades"], made["attempt"]["mark"], made["quiz_grade"]) == (1.0, 1.0, 10.0)
    assert made["attempt"]["response"] == "True", made

    # The deploy's steps upgraded the site between the two releases, after a snapshot, and lifted the page.
    assert plan["action"] == "upgrade", plan
    assert str(plan["from"]["release"]).startswith(previous_real_image.release), plan  # type: ignore[index]
    assert str(plan["to"]["release"]).startswith(real_image.release), plan  # type: ignore[index]
    assert handler.takes_snapshot(plan, SNAPSHOTS_ON)
    assert "MAINTENANCE LIFTED" in finish_log

    # The new code reads the same course, student, enrolment, attempt, answer and grades.
    assert kept == made
