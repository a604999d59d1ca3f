"""Command line of ``python -m journey``: any URL, the monitoring account, budgets and where to keep
the screenshots. The password comes from the environment only, never from the command line."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from journey.browser import CHROMEDRIVER, CHROMIUM, local_chromium
from journey.runner import ScreenshotDirectory, run_journey
from journey.steps import DEFAULT_BUDGETS, STEP_NAMES, JourneyTarget
from smoke.report import Outcome, summary_line, write_junit_xml

EXIT_PASSED, EXIT_FAILED = 0, 1
PASSWORD_VARIABLE = "JOURNEY_PASSWORD"
ENVIRONMENT_FALLBACKS = {
    "url": "JOURNEY_URL",
    "username": "JOURNEY_USERNAME",
    "course": "JOURNEY_COURSE",
    "budgets": "JOURNEY_BUDGETS",
}


class InvalidBudgetsError(ValueError):
    """Budgets that name an unknown step or are not a positive number of seconds."""


def parse_budgets(text: str | None) -> dict[str, float]:
    """The default budgets overridden by a JSON object of step name to seconds."""
    budgets = dict(DEFAULT_BUDGETS)
    if not text:
        return budgets
    try:
        given = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidBudgetsError(f"budgets must be a JSON object: {error}") from error
    if not isinstance(given, dict):
        raise InvalidBudgetsError(f"budgets must be a JSON object, got {text!r}")
    for name, seconds in given.items():
        if name not in budgets:
            raise InvalidBudgetsError(f"unknown step {name!r} in budgets; steps: {', '.join(STEP_NAMES)}")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            raise InvalidBudgetsError(
                f"budget of {name} must be a positive number of seconds, got {seconds!r}"
            )
        budgets[name] = float(seconds)
    return budgets


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m journey",
        description="Log in to a Moodle site in headless Chromium as the monitoring user, open the "
        "dashboard and the monitoring course, call one AJAX web service and one /api route; fail on any "
        f"answer >= 400, JavaScript error, missing element or step over its budget. The password is read "
        f"from {PASSWORD_VARIABLE}. See docs/JOURNEY.md.",
    )
    parser.add_argument("--url", help="Moodle's wwwroot, e.g. https://d111.cloudfront.net [JOURNEY_URL]")
    parser.add_argument("--username", help="the monitoring user (default monitor) [JOURNEY_USERNAME]")
    parser.add_argument("--course", help="short name of its course (default monitoring) [JOURNEY_COURSE]")
    parser.add_argument(
        "--budgets", help="JSON object of step to seconds, e.g. '{\"log_in\": 5}' [JOURNEY_BUDGETS]"
    )
    parser.add_argument(
        "--screenshots", type=Path, default=Path("journey-screenshots"), help="directory for one PNG per step"
    )
    parser.add_argument("--junit-xml", type=Path, help="write a JUnit XML report here")
    parser.add_argument(
        "--chromium", type=Path, default=CHROMIUM, help=f"browser binary (default {CHROMIUM})"
    )
    parser.add_argument(
        "--chromedriver", type=Path, default=CHROMEDRIVER, help=f"driver binary (default {CHROMEDRIVER})"
    )
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    parser = build_parser()
    args = parser.parse_args(argv)
    for option, variable in ENVIRONMENT_FALLBACKS.items():
        if getattr(args, option) is None and environ.get(variable):
            setattr(args, option, environ[variable])
    if not args.url or not args.url.startswith(("https://", "http://")):
        parser.error("a site URL (http:// or https://) is needed: --url or JOURNEY_URL")
    password = environ.get(PASSWORD_VARIABLE)
    if not password:
        parser.error(f"the monitoring user's password is needed in {PASSWORD_VARIABLE}")
    try:
        budgets = parse_budgets(args.budgets)
    except InvalidBudgetsError as error:
        parser.error(str(error))
    target = JourneyTarget(
        url=args.url.rstrip("/"),
        username=args.username or "monitor",
        password=password,
        course=args.course or "monitoring",
    )
    print(f"journey: {target.url} as {target.username}, screenshots in {args.screenshots}", flush=True)
    driver = local_chromium(chromium=args.chromium, chromedriver=args.chromedriver)
    try:
        results = run_journey(
            driver, target, budgets=budgets, screenshots=ScreenshotDirectory(args.screenshots),
            log=lambda line: print(line, flush=True),
        )  # fmt: skip
    finally:
        driver.quit()
    print(summary_line(results))
    if args.junit_xml is not None:
        write_junit_xml(results, args.junit_xml)
    return EXIT_FAILED if any(result.outcome is not Outcome.PASS for result in results) else EXIT_PASSED
