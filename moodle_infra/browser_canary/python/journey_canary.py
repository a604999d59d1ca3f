"""CloudWatch Synthetics entry point (handler ``journey_canary.handler``): the browser journey of
journey/ in the runtime's own Chromium, with the password read from Secrets Manager at each run.

The canary's code bundle holds this file, the journey package and smoke/report.py under python/
(construct.py); the runtime provides Selenium (the version requirements-dev.txt pins), boto3 and
aws_synthetics. Screenshots go to the canary's artifacts through the runtime's save_screenshot.
"""

from __future__ import annotations

import os
from typing import Any

import boto3  # type: ignore[import-not-found,unused-ignore]
from aws_synthetics.common import synthetics_logger  # type: ignore[import-not-found]
from aws_synthetics.selenium import synthetics_webdriver  # type: ignore[import-not-found]

from journey.browser import chrome_options
from journey.cli import parse_budgets
from journey.runner import run_journey
from journey.steps import JourneyTarget
from smoke.report import Outcome


class RunArtifacts:
    """Synthetics keeps what its driver's save_screenshot writes with the run (bucket and console)."""

    def take(self, driver: Any, name: str) -> None:
        driver.save_screenshot(f"{name}.png")


def handler(event: object, context: object) -> str:
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=os.environ["JOURNEY_SECRET_ARN"])
    target = JourneyTarget(
        url=os.environ["JOURNEY_URL"],
        username=os.environ["JOURNEY_USERNAME"],
        password=secret["SecretString"],
        course=os.environ["JOURNEY_COURSE"],
    )
    driver = synthetics_webdriver.Chrome(chrome_options=chrome_options())
    results = run_journey(
        driver,
        target,
        budgets=parse_budgets(os.environ.get("JOURNEY_BUDGETS")),
        screenshots=RunArtifacts(),
        log=synthetics_logger.info,
    )
    failed = [result for result in results if result.outcome is Outcome.FAIL]
    if failed:
        raise RuntimeError("; ".join(f"{result.name}: {result.message}" for result in failed))
    return f"journey passed in {sum(result.seconds for result in results):.1f} s"
