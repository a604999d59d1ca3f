"""Validation of the browser canary's settings (moodle_infra/config.py, CanaryConfig)."""

from typing import Any

import pytest

from journey.steps import DEFAULT_BUDGETS, STEP_NAMES
from moodle_infra.config import JourneyBudgets, canary_timeout_seconds, load_config
from tests.unit.test_config import SHIPPED, errors_of, raw, set_setting

__all__ = ["raw"]  # the fixture, used by name


def test_the_shipped_canary_runs_everywhere_every_five_minutes() -> None:
    config = load_config(SHIPPED)
    for environment in (*config.environments.values(), config.sandbox):
        assert environment.canary.enabled
        assert environment.canary.every_minutes == 5
        assert canary_timeout_seconds(environment.canary) == 300


def test_every_journey_step_has_a_budget_setting() -> None:
    """The configuration names exactly the steps the journey runs, so a budget can never go unused."""
    assert tuple(JourneyBudgets.__dataclass_fields__) == STEP_NAMES
    assert all(
        DEFAULT_BUDGETS[step] <= seconds
        for step, seconds in vars(load_config(SHIPPED).environments["prod"].canary.budgets_seconds).items()
    )


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "canary.every_minutes",
            3,
            "moodle.environments.dev.canary.every_minutes: must be one of 2, 5, 10, 15, 30, 60 "
            "(minutes between runs), got 3",
        ),
        (
            "canary.budgets_seconds.log_in",
            0,
            "moodle.environments.dev.canary.budgets_seconds.log_in: must be an integer from 1 to 60, got 0",
        ),
        (
            "canary.enabled",
            "yes",
            'moodle.environments.dev.canary.enabled: must be true or false, got "yes"',
        ),
        (
            "canary.username",
            "Monitor User",
            "moodle.environments.dev.canary.username: must be 2 to 100 lowercase letters, digits, dots, "
            'dashes or underscores, got "Monitor User"',
        ),
        (
            "canary.budgets_seconds.logout",
            5,
            "moodle.environments.dev.canary.budgets_seconds.logout: unknown setting; allowed: ajax_call, "
            "api_route, course, dashboard, log_in, login_page",
        ),
    ],
)
def test_bad_canary_settings_are_named(raw: dict[str, Any], path: str, value: object, expected: str) -> None:
    set_setting(raw, f"environments.dev.{path}", value)

    assert errors_of(raw) == [expected]


def test_budgets_must_fit_in_one_run(raw: dict[str, Any]) -> None:
    """Every 2 minutes leaves a 120 s run: 60 s for the browser, 60 s for the steps, not the shipped 70."""
    set_setting(raw, "environments.staging.canary.every_minutes", 2)

    assert errors_of(raw) == [
        "moodle.environments.staging.canary.budgets_seconds: must add up to at most 60 s (a run's timeout "
        "of 120 s, from every_minutes, less 60 s to start the browser), got 70 s"
    ]


def test_the_timeout_is_capped_at_the_synthetics_limit(raw: dict[str, Any]) -> None:
    set_setting(raw, "environments.prod.canary.every_minutes", 60)

    assert canary_timeout_seconds(load_config(raw).environments["prod"].canary) == 840
