"""The browser journey (journey/) run by the image tests: headless Chromium on the host against the web
container on loopback, one screenshot directory per test under test-artifacts/journey/ (kept by CI)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from journey.browser import CHROMEDRIVER, CHROMIUM, local_chromium
from journey.runner import ScreenshotDirectory, run_journey
from journey.steps import DEFAULT_BUDGETS, JourneyTarget
from smoke.report import CheckResult, Outcome
from tests.image.container import REPO_ROOT, REQUIRED_VARIABLE, web_url

ARTIFACTS = REPO_ROOT / "test-artifacts" / "journey"


def require_chromium() -> None:
    """Skips (or, under .ci/run, fails) without Debian's chromium and chromium-driver."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if not missing:
        return
    reason = f"the journey needs {', '.join(missing)} (Debian packages chromium, chromium-driver)"
    if os.environ.get(REQUIRED_VARIABLE):
        pytest.fail(f"{reason}, and {REQUIRED_VARIABLE} is set")
    pytest.skip(reason)


def screenshot_dir(name: str) -> Path:
    path = ARTIFACTS / name
    shutil.rmtree(path, ignore_errors=True)
    return path


def journey(
    *, password: str, screenshots: Path, budgets: Mapping[str, float] | None = None, username: str = "monitor"
) -> list[CheckResult]:
    """One run of the journey against the web container, printed step by step."""
    require_chromium()
    target = JourneyTarget(url=web_url(), username=username, password=password, course="monitoring")
    driver = local_chromium()
    try:
        return run_journey(
            driver, target, budgets=budgets or DEFAULT_BUDGETS, screenshots=ScreenshotDirectory(screenshots)
        )
    finally:
        driver.quit()


def outcomes(results: list[CheckResult]) -> dict[str, Outcome]:
    return {result.name: result.outcome for result in results}


def failure(results: list[CheckResult]) -> CheckResult:
    failed = [result for result in results if result.outcome is Outcome.FAIL]
    assert len(failed) == 1, results
    return failed[0]
