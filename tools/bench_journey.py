"""Duration of the browser journey's steps against real Moodle: ``make bench-journey``.

Opt-in: MOODLE_SRC names a Moodle tree (docs/IMAGE.md, "Testing against real Moodle"). Builds the image of
the tree (or reuses it: tools/bench_moodle.py), installs it with the monitoring user against MySQL (the tests'
server, a container) and Redis on loopback, starts `web`, then runs the journey (journey/) in headless
Chromium: once on a fresh web task (cold: nothing compiled or cached yet, what the first canary run after a
deploy meets) and RUNS more times. Prints each step's cold and warm durations and the budget docs/JOURNEY.md
derives from them; the screenshots of each run stay in test-artifacts/journey/bench-<run>/.
Needs podman, mmdebstrap, redis-server, openssl, chromium and chromium-driver (Debian packages).
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

from journey.browser import local_chromium
from journey.runner import ScreenshotDirectory, run_journey
from journey.steps import DEFAULT_BUDGETS, STEP_NAMES, JourneyTarget
from moodle_infra import image_contract
from smoke.report import CheckResult, Outcome
from tests.image.container import Mount, run_container, web_url
from tests.image.image_testlib import make_runtime_dir
from tests.image.journey_testlib import ARTIFACTS
from tools.bench_moodle import CA_IN_CONTAINER, bench_site, moodle_tree, site_env, start

RUNS = 5
PASSWORD = "Bench-Monitor-1!"
BUDGET_FACTOR, MIN_BUDGET = 3, 3
"""A step's budget: this many times its slowest measured duration (cold included), in whole seconds, and
at least MIN_BUDGET, so that a shared CI machine's hiccup is no failure."""


def journey(screenshots: Path) -> list[CheckResult]:
    target = JourneyTarget(url=web_url(), username="monitor", password=PASSWORD, course="monitoring")
    driver = local_chromium()
    try:
        relaxed = {name: 60.0 for name in STEP_NAMES}
        return run_journey(driver, target, budgets=relaxed, screenshots=ScreenshotDirectory(screenshots))
    finally:
        driver.quit()


def report(cold: list[CheckResult], warm: list[list[CheckResult]]) -> str:
    lines = [
        f"Journey steps, seconds: one cold run on a fresh web task, then {len(warm)} warm runs",
        f"{'step':<12}{'cold':>7}{'warm p50':>10}{'warm max':>10}{'budget':>8}{'default':>9}",
    ]
    for index, name in enumerate(STEP_NAMES):
        durations = [run[index].seconds for run in warm]
        slowest = max(cold[index].seconds, *durations)
        budget = max(MIN_BUDGET, math.ceil(BUDGET_FACTOR * slowest))
        lines.append(
            f"{name:<12}{cold[index].seconds:>7.2f}{statistics.median(durations):>10.2f}{max(durations):>10.2f}"
            f"{budget:>8}{DEFAULT_BUDGETS[name]:>9g}"
        )
    totals = [sum(result.seconds for result in run) for run in warm]
    cold_total = sum(result.seconds for result in cold)
    lines.append(f"{'total':<12}{cold_total:>7.2f}{statistics.median(totals):>10.2f}{max(totals):>10.2f}")
    return "\n".join(lines)


def main() -> int:
    source = moodle_tree(
        "bench-journey", ("podman", "mmdebstrap", "redis-server", "chromium", "chromedriver")
    )
    started = time.monotonic()
    with bench_site(source, "journey-bench-") as (image, found, root):
        env = site_env(found, tls=True) | {"MOODLE_MONITOR_PASSWORD": PASSWORD}
        mounts: list[Mount] = [
            (make_runtime_dir(root / "moodledata"), image_contract.SHARED_DATA_PATH),
            (found.ca_file, CA_IN_CONTAINER, "ro"),
        ]
        installed = run_container(
            image, image_contract.COMMAND_INSTALL_OR_UPGRADE, env=env, mounts=mounts, timeout=600
        )
        if installed.returncode != 0:
            raise SystemExit(f"install-or-upgrade failed:\n{installed.stderr[-3000:]}")
        web = start(image, env, mounts)
        try:
            runs = []
            for run in range(RUNS + 1):
                print(f"run {run} ({'cold' if run == 0 else 'warm'}):", flush=True)
                runs.append(journey(ARTIFACTS / f"bench-{run}"))
        finally:
            web.remove()
    failed = [result for run in runs for result in run if result.outcome is not Outcome.PASS]
    if failed:
        raise SystemExit(f"the journey failed: {failed[0].name}: {failed[0].message}")
    print(report(runs[0], runs[1:]))
    print(f"total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
