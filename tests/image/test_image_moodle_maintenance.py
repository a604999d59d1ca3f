"""A deploy's upgrade steps against real Moodle (opt-in: MOODLE_SRC_PREVIOUS, MOODLE_SRC; docs/UPGRADES.md).

As the install-or-upgrade custom resource runs them: plan, upgrade, and finish once the new web tasks
serve. The previous release's web task stays up during the upgrade and must answer only Moodle's
maintenance page (503, Retry-After) from the moment the schema starts to change; a second deploy of the
same release must neither snapshot nor show the maintenance page; and a revert to the previous release
must be refused, as its plan finds the database newer than its code.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType

import pytest

from moodle_infra import image_contract
from moodle_infra.install_upgrade import handler
from smoke import checks as smoke_checks
from tests.image.container import Container, port_is_free, web_url
from tests.image.image_testlib import Redis, wait_until
from tests.image.mysql_server import MySQL
from tests.image.real_moodle import PREVIOUS_SOURCE_VARIABLE, SOURCE_VARIABLE, RealImage, source_tree
from tests.image.test_image_moodle import Browser, Deployment, login, new_deployment

pytestmark = [pytest.mark.moodle, pytest.mark.services, pytest.mark.container]

SNAPSHOTS_ON = {"Enabled": "true"}
MAINTENANCE_TEXT = "The site is undergoing maintenance and is currently not available"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def fetch(path: str) -> Answer:
    try:
        with urllib.request.urlopen(web_url(path), timeout=30) as response:
            return Answer(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read().decode())


@dataclass
class Watcher:
    """Requests a page over and over in the background, recording each status in order."""

    path: str
    statuses: list[int] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Watcher:
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def _watch(self) -> None:
        while not self.stop.is_set():
            self.statuses.append(fetch(self.path).status)
            time.sleep(0.2)

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def start_web(deployment: Deployment, image: RealImage, what: str) -> Container:
    """Waits out web containers that other checkouts start on port 8080 without the machine-wide lock."""
    deadline = time.monotonic() + 600
    while True:
        wait_until(lambda: port_is_free(image_contract.CONTAINER_PORT), 600, "port 8080 to be free")
        try:
            return deployment.start_web(image.tag, what)
        except AssertionError as taken:
            if "is taken on this machine" not in str(taken) or time.monotonic() > deadline:
                raise
            time.sleep(5)


def step(deployment: Deployment, image: RealImage, name: str, deploy: str) -> tuple[str, str]:
    """Runs one step of install-or-upgrade as the deploy's ECS task does; returns its stdout and stderr."""
    with_step = replace(deployment, env={**deployment.env, handler.STEP_VARIABLE: name})
    started = time.monotonic()
    result = with_step.run(image.tag, image_contract.COMMAND_INSTALL_OR_UPGRADE)
    deployment.measurements[f"{deploy}: step {name} ({image.release})"] = (
        f"{time.monotonic() - started:.1f} s"
    )
    assert result.returncode == 0, f"step {name}: " + result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout, result.stderr


def removed_by(previous: Path, tree: Path) -> list[str]:
    """Standard plugins of ``previous`` that ``tree`` lists as deleted (Moodle's lib/plugins.json)."""
    shipped = json.loads((previous / "lib" / "plugins.json").read_text())["standard"]
    deleted = json.loads((tree / "lib" / "plugins.json").read_text())["deleted"]
    return sorted(
        f"{kind}_{name}" for kind, names in deleted.items() for name in names if name in shipped.get(kind, [])
    )


def plan_of(stderr: str) -> dict[str, object]:
    match = handler.PLAN_LINE.search(stderr)
    assert match, stderr[-3000:]
    plan: dict[str, object] = json.loads(match[1])
    return plan


def test_upgrade_behind_the_maintenance_page_then_a_deploy_without_version_change(
    previous_real_image: RealImage,
    real_image: RealImage,
    mysql: MySQL,
    redis_tls: Redis,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp("maintenance")
    root.chmod(0o755)
    deployment = new_deployment("moodle_maintenance", root, mysql, redis_tls)
    deployment.measurements.update(previous_real_image.timings | real_image.timings)
    try:
        step(deployment, previous_real_image, "all", "install")
        old_web = start_web(deployment, previous_real_image, "old web")
        try:
            before = fetch("/login/index.php")
            plan = plan_of(step(deployment, real_image, "plan", "upgrade deploy")[1])
            with Watcher("/login/index.php") as during_upgrade:
                _, upgrade_log = step(deployment, real_image, "upgrade", "upgrade deploy")
            after_upgrade = fetch("/login/index.php")
            dashboard_after_upgrade = fetch("/my/")
        finally:
            old_web.remove()

        new_web = start_web(deployment, real_image, "new web")
        try:
            new_before_finish = fetch("/login/index.php")
            _, finish_log = step(deployment, real_image, "finish", "upgrade deploy")
            status, url, dashboard = login(Browser())
            second_plan = plan_of(step(deployment, real_image, "plan", "same-release deploy")[1])
            with Watcher("/login/index.php") as during_second_deploy:
                _, second_upgrade_log = step(deployment, real_image, "upgrade", "same-release deploy")
            _, second_finish_log = step(deployment, real_image, "finish", "same-release deploy")
            after_second_deploy = fetch("/login/index.php")
        finally:
            new_web.remove()
        # A git revert of the image: the previous release's plan finds the database newer than its code.
        revert_plan = plan_of(step(deployment, previous_real_image, "plan", "revert deploy")[1])
        release = mysql.sql("SELECT value FROM moodle_maintenance.mdl_config WHERE name = 'release'")
        deployment.measurements["old web during the upgrade step"] = (
            f"{during_upgrade.statuses.count(200)} x 200, then {during_upgrade.statuses.count(503)} x 503"
        )
        deployment.measurements["new web during the same-release deploy"] = (
            f"{during_second_deploy.statuses.count(200)} x 200, {len(during_second_deploy.statuses)} requests"
        )
    finally:
        print(f"\nmeasurements (maintenance): {json.dumps(deployment.measurements, indent=2)}")
        mysql.sql("DROP DATABASE IF EXISTS moodle_maintenance")

    # The plan names the versions the snapshot is named after, and asks for a snapshot.
    assert before.status == 200
    assert plan["action"] == "upgrade", plan
    assert plan["maintenance"] is False
    from_version, to_version = (plan[side]["version"] for side in ("from", "to"))  # type: ignore[index]
    assert float(str(from_version)) == float(previous_real_image.version), plan
    assert float(str(to_version)) == float(real_image.version), plan
    # The standard plugins the new release drops (its lib/plugins.json), which its upgrade removes.
    assert sorted(plugin["component"] for plugin in plan["removed"]) == removed_by(  # type: ignore[attr-defined]
        source_tree(PREVIOUS_SOURCE_VARIABLE), source_tree(SOURCE_VARIABLE)
    )
    assert plan["missing"] == []
    assert handler.takes_snapshot(plan, SNAPSHOTS_ON)
    assert handler.snapshot_name("prod", plan, "0123456789abcdef").startswith(
        f"moodle-upgrade-prod-{previous_real_image.version.split('.')[0]}-"
    )

    # The old code's web task: 200 until the maintenance page goes up, then only 503, never an error page.
    assert "maintenance mode on" in upgrade_log and "upgrading Moodle" in upgrade_log
    first_503 = during_upgrade.statuses.index(503)
    assert set(during_upgrade.statuses[:first_503]) <= {200}, during_upgrade.statuses
    assert set(during_upgrade.statuses[first_503:]) == {503}, during_upgrade.statuses
    for answer in (after_upgrade, dashboard_after_upgrade):
        assert answer.status == 503
        assert answer.headers["Retry-After"] == "300"
        assert "no-store" in answer.headers["Cache-Control"]
        assert MAINTENANCE_TEXT in answer.body

    # The new code's web task shows it too until finish lifts it; then login and /my/ work.
    assert new_before_finish.status == 503
    assert handler.MAINTENANCE_LEFT_ON not in upgrade_log
    assert "MAINTENANCE LIFTED" in finish_log
    assert (status, url.endswith("/my/")) == (200, True)
    assert "login/logout.php?sesskey=" in dashboard
    assert release.strip().startswith(real_image.release)
    # The line the deploy reads for the stack's MoodleRelease output, which the smoke test checks.
    match = handler.RELEASE_LINE.search(upgrade_log)
    assert match and json.loads(match[1])["release"] == release.strip()
    assert smoke_checks.release_matches(json.loads(match[1])["release"], real_image.release)

    # A deploy without a version change: no snapshot, no maintenance page at any moment.
    assert second_plan["action"] == "none", second_plan
    assert not handler.takes_snapshot(second_plan, SNAPSHOTS_ON)
    assert "maintenance mode on" not in second_upgrade_log
    assert "the database is up to date" in second_upgrade_log
    assert during_second_deploy.statuses and set(during_second_deploy.statuses) == {200}
    assert "no upgrade maintenance mode to lift" in second_finish_log
    assert after_second_deploy.status == 200

    # The revert is refused before anything runs (the handler raises on this plan).
    assert revert_plan["action"] == "downgrade", revert_plan
    assert revert_plan["downgrades"][0]["component"] == "core"  # type: ignore[index]
    assert "newer Moodle than this image" in handler.downgrade_refusal(revert_plan)
