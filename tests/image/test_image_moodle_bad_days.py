"""Real Moodle on its bad days, in containers (opt-in: MOODLE_SRC): an install stopped part-way, a data
directory that install-or-upgrade never prepared, and the 5.1 router's URLs."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodle_infra import image_contract
from tests.image.container import Container, run_container, web_url
from tests.image.image_testlib import EXIT_DATAROOT_NOT_PREPARED, Redis, make_runtime_dir
from tests.image.mysql_server import MySQL
from tests.image.real_moodle import RealImage
from tests.image.test_image_moodle import Browser, Deployment, login, new_deployment

pytestmark = [pytest.mark.moodle, pytest.mark.services, pytest.mark.container]

INSTALL = image_contract.COMMAND_INSTALL_OR_UPGRADE


@pytest.fixture
def deployment(
    mysql: MySQL,
    redis_tls: Redis,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("bad-days")
    root.chmod(0o755)
    name = "bad_days_" + request.node.name.split("[")[-1].rstrip("]").replace("-", "_")[:30]
    deployment = new_deployment(name, root, mysql, redis_tls)
    yield deployment
    print(f"\nmeasurements ({request.node.name}): {json.dumps(deployment.measurements, indent=2)}")
    mysql.sql(f"DROP DATABASE IF EXISTS {name}")


@pytest.mark.parametrize("seconds", [4, 18], ids=["early", "late"])
def test_an_install_killed_part_way_is_finished_by_the_next_run(
    real_image: RealImage, deployment: Deployment, mysql: MySQL, seconds: int
) -> None:
    """Fargate stopping the task, an out-of-memory kill or a deploy timeout: SIGKILL mid-install."""
    interrupted = Container(real_image.tag).start(INSTALL, env=deployment.env, mounts=deployment.mounts())
    time.sleep(seconds)
    assert interrupted.running(), f"the install ended within {seconds} s: {interrupted.logs()[-2000:]}"
    interrupted.podman_kill()
    interrupted.remove()
    database = deployment.env["MOODLE_DB_NAME"]
    tables_left = mysql.sql(
        f"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '{database}'"
    )
    deployment.measurements["tables left by the interrupted install"] = tables_left.strip()

    recovered = deployment.timed("install-or-upgrade after the interruption", real_image.tag, INSTALL)

    assert recovered.returncode == 0, recovered.stdout[-3000:] + recovered.stderr[-3000:]
    assert "unfinished first install" in recovered.stderr
    web = deployment.start_web(real_image.tag, "web")
    try:
        status, url, dashboard = login(Browser())
    finally:
        web.remove()
    assert (status, url.endswith("/my/")) == (200, True)
    assert "login/logout.php?sesskey=" in dashboard


def test_two_runs_queued_after_a_killed_install_both_succeed(
    real_image: RealImage, deployment: Deployment
) -> None:
    """The recovery ends the killed installer's recorded session, never the other queued run's connection
    (which used to be killed: it exited 255 without a word)."""
    interrupted = Container(real_image.tag).start(INSTALL, env=deployment.env, mounts=deployment.mounts())
    time.sleep(18)
    assert interrupted.running(), f"the install ended within 18 s: {interrupted.logs()[-2000:]}"
    interrupted.podman_kill()
    interrupted.remove()
    recorded = (deployment.dataroot / "install-database-sessions.txt").read_text().split()
    deployment.measurements["installer sessions recorded"] = ", ".join(recorded)

    started = time.monotonic()
    runs = [
        Container(real_image.tag).start(INSTALL, env=deployment.env, mounts=deployment.mounts()) for _ in "ab"
    ]
    try:
        statuses = [run.wait(timeout=600) for run in runs]
        logs = [run.logs() for run in runs]
    finally:
        for run in runs:
            run.remove()
    deployment.measurements["two queued runs after the killed install"] = (
        f"{time.monotonic() - started:.1f} s"
    )

    assert statuses == [0, 0], "\n---\n".join(log[-3000:] for log in logs)
    assert sum("unfinished first install" in log for log in logs) == 1
    assert sum("the database is empty: installing Moodle" in log for log in logs) == 1
    web = deployment.start_web(real_image.tag, "web")
    try:
        status, url, _ = login(Browser())
    finally:
        web.remove()
    assert (status, url.endswith("/my/")) == (200, True)


def test_web_refuses_a_data_directory_install_or_upgrade_never_prepared(
    real_image: RealImage, deployment: Deployment, tmp_path: Path
) -> None:
    """A new or wrong EFS access point: writable and empty, or another database's."""
    installed = deployment.run(real_image.tag, INSTALL)
    assert installed.returncode == 0, installed.stderr[-3000:]
    empty = make_runtime_dir(tmp_path / "new-access-point")
    empty.parent.chmod(0o755)
    other_database = {**deployment.env, "MOODLE_DB_NAME": "another_site"}

    on_empty = run_container(
        real_image.tag, "web", env=deployment.env, mounts=[(empty, image_contract.SHARED_DATA_PATH)]
    )
    on_other = run_container(real_image.tag, "web", env=other_database, mounts=deployment.mounts())

    for result in (on_empty, on_other):
        assert result.returncode == EXIT_DATAROOT_NOT_PREPARED, result.stderr[-2000:]
        assert "Run install-or-upgrade" in result.stderr
    assert "another_site" in on_other.stderr


def test_moodle_router_serves_paths_that_are_not_files(real_image: RealImage, deployment: Deployment) -> None:
    """Moodle 5.1's router ("Configuring the Router"): paths that are no file reach r.php, and Moodle
    generates its URLs without r.php."""
    installed = deployment.run(real_image.tag, INSTALL)
    assert installed.returncode == 0, installed.stderr[-3000:]
    web = deployment.start_web(real_image.tag, "web")
    try:
        browser = Browser()
        login(browser)
        # The URL Moodle's JavaScript builds for a template: {apibase}/rest/v2/{component}/{endpoint}.
        routed = browser.open(web_url("/api/rest/v2/core/templates/boost/core/loading"))
        page = browser.open(web_url("/my/"))[2]
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(web_url("/no/such/page"), timeout=30)
    finally:
        web.remove()

    status, _, body = routed
    assert status == 200
    assert isinstance(json.loads(body), dict)
    # Moodle's own "page not found", from the router, not nginx's.
    assert missing.value.code == 404
    assert b"<html" in missing.value.read().lower()
    # The JavaScript API base that Moodle hands to every page: without r.php once the router is configured.
    api_base = re.search(r'"apibase":"([^"]*)"', page)
    assert api_base
    assert api_base[1].replace("\\/", "/") == web_url("/api")
