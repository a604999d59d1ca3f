"""moodle.pipeline.security_rebuild: when the pipeline rebuilds the image by itself, or never (null); a
schedule EventBridge would refuse is refused here, before anything is built."""

import copy
from typing import Any

import pytest

from moodle_infra.config import SecurityRebuildConfig, load_config
from moodle_infra.schedule_expression import problem
from tests.unit.test_config import SHIPPED, errors_of, set_setting

SETTING = "pipeline.security_rebuild"


@pytest.fixture
def raw() -> dict[str, Any]:
    return copy.deepcopy(SHIPPED)


def test_shipped_pipeline_rebuilds_weekly_on_monday_night() -> None:
    assert load_config(SHIPPED).pipeline.security_rebuild == SecurityRebuildConfig(
        schedule="cron(0 3 ? * MON *)"
    )


def test_null_turns_security_rebuilds_off(raw: dict[str, Any]) -> None:
    set_setting(raw, SETTING, None)
    assert load_config(raw).pipeline.security_rebuild is None


ACCEPTED = (
    "cron(0 3 ? * MON *)", "cron(30 2 1 * ? *)", "cron(0 4 ? * MON-FRI *)", "cron(0/30 * * * ? *)",
    "cron(0 3 ? * 2#1 *)", "cron(0 3 L * ? *)", "rate(1 day)", "rate(7 days)", "rate(12 hours)",
)  # fmt: skip


@pytest.mark.parametrize("schedule", ACCEPTED)
def test_schedules_eventbridge_accepts_are_accepted(raw: dict[str, Any], schedule: str) -> None:
    set_setting(raw, f"{SETTING}.schedule", schedule)
    assert load_config(raw).pipeline.security_rebuild == SecurityRebuildConfig(schedule=schedule)


@pytest.mark.parametrize(
    ("schedule", "why"),
    [
        ("cron(0 3 * * MON *)", '"?" in exactly one'),
        ("cron(0 3 ? * ? *)", '"?" in exactly one'),
        ("cron(0 3 ? * MON)", "has 5 fields"),
        ("0 3 * * 1", "neither cron(...) nor rate(...)"),
        ("rate(1 days)", 'takes "day" for 1'),
        ("rate(7 day)", 'takes "day" for 1 and "days" for more'),
        ("rate(0 days)", "positive"),
        ("rate(1 week)", "neither"),
        ("cron(60 3 ? * MON *)", "minutes field '60' is outside 0-59"),
        ("cron(0 3 ? 13 MON *)", "month field '13' is outside 1-12"),
        ("cron(0 3 ? * FUNDAY *)", "day of week field 'FUNDAY' is not valid"),
        (7, "is not a string"),
    ],
)
def test_schedules_eventbridge_refuses_are_refused_naming_the_setting(
    raw: dict[str, Any], schedule: object, why: str
) -> None:
    assert why in (problem(schedule) or "")
    set_setting(raw, f"{SETTING}.schedule", schedule)
    (error,) = errors_of(raw)
    assert error.startswith(f"moodle.{SETTING}.schedule: must be an EventBridge schedule")
    assert '"?" in exactly one of the two day fields' in error


def test_a_missing_schedule_is_named(raw: dict[str, Any]) -> None:
    set_setting(raw, SETTING, {})
    (error,) = errors_of(raw)
    assert error.startswith(f"moodle.{SETTING}.schedule:")
