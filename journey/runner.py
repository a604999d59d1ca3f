"""One run of the journey: every step timed against its budget, checked for HTTP and JavaScript errors,
and photographed; the first failing step ends the run."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from selenium.webdriver.remote.webdriver import WebDriver

from journey.browser import drain_problems
from journey.steps import STEPS, JourneyTarget, StepContext, StepFailedError
from smoke.report import CheckResult, Outcome, format_line

WAIT_FACTOR = 3.0
"""A step may wait for its elements this many times its budget before it gives up (and fails)."""
MIN_WAIT_SECONDS = 10.0


class Screenshots(Protocol):
    def take(self, driver: WebDriver, name: str) -> None: ...


class ScreenshotDirectory:
    """``NN-step.png`` files in a directory, in step order."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.count = 0

    def take(self, driver: WebDriver, name: str) -> None:
        self.count += 1
        driver.save_screenshot(str(self.directory / f"{self.count:02d}-{name}.png"))


def run_journey(
    driver: WebDriver,
    target: JourneyTarget,
    *,
    budgets: Mapping[str, float],
    screenshots: Screenshots,
    log: Callable[[str], None] = print,
) -> list[CheckResult]:
    """One result per step; steps after a failure are skipped (they depend on it)."""
    results: list[CheckResult] = []
    failed: str | None = None
    drain_problems(driver)
    for step in STEPS:
        if failed is not None:
            results.append(CheckResult(step.name, Outcome.SKIP, 0.0, f"not reached: {failed} failed"))
            log(format_line(results[-1]))
            continue
        budget = budgets[step.name]
        context = StepContext(driver, target, max(MIN_WAIT_SECONDS, budget * WAIT_FACTOR))
        started = time.monotonic()
        reasons = []
        try:
            message = step.run(context)
        except StepFailedError as error:
            message = str(error)
            reasons.append(message)
        except Exception as error:  # the browser crashed or the driver lost it: the step failed
            message = f"{type(error).__name__}: {error}"
            reasons.append(message)
        seconds = time.monotonic() - started
        reasons += [str(problem) for problem in drain_problems(driver)]
        if seconds > budget:
            reasons.append(f"took {seconds:.2f}s, budget {budget:g}s")
        screenshots.take(driver, step.name)
        outcome = Outcome.FAIL if reasons else Outcome.PASS
        failed = step.name if reasons else None
        results.append(CheckResult(step.name, outcome, seconds, "; ".join(reasons) or message))
        log(format_line(results[-1]))
    return results
