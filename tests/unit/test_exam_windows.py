"""Exam windows (issue 19): validated like every setting, and synthesized to scheduled actions that raise
the web service's minimum before each window and restore it after."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from moodle_infra.config import ConfigError, ExamWindow, load_config
from moodle_infra.exam_capacity import action_names
from tests.conftest import EXAM_WINDOWS, TemplateOf

SHIPPED = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]["moodle"]
PROD_WEB = "moodle.environments.prod.web"


def window(**overrides: object) -> dict[str, object]:
    return {
        "start": "2027-01-20T09:00",
        "duration_minutes": 120,
        "time_zone": "America/Montevideo",
        "min_tasks": 6,
    } | overrides


def errors_with(*windows: dict[str, object]) -> list[str]:
    raw: dict[str, Any] = copy.deepcopy(SHIPPED)
    raw["environments"]["prod"]["web"]["exam_windows"] = list(windows)
    with pytest.raises(ConfigError) as raised:
        load_config(raw)
    return raised.value.errors


def loaded_with(*windows: dict[str, object]) -> tuple[ExamWindow, ...]:
    raw: dict[str, Any] = copy.deepcopy(SHIPPED)
    raw["environments"]["prod"]["web"]["exam_windows"] = list(windows)
    return load_config(raw).environments["prod"].web.exam_windows


def test_no_windows_by_default() -> None:
    config = load_config(SHIPPED)
    assert all(not environment.web.exam_windows for environment in config.environments.values())


def test_a_window_loads_with_its_default_warm_up() -> None:
    (loaded,) = loaded_with(window())
    assert loaded == ExamWindow(
        start="2027-01-20T09:00", duration_minutes=120, time_zone="America/Montevideo", min_tasks=6
    )
    assert loaded.warm_up_minutes == 20
    assert f"{loaded.raised_at():%H:%M}" == "08:40"
    assert f"{loaded.restored_at():%H:%M}" == "11:00"


def test_warm_up_and_end_count_real_minutes_across_a_daylight_saving_change() -> None:
    """Europe/Madrid moves from 02:00 to 03:00 on 2027-03-28: an exam from 01:30 to 03:30 wall time
    lasts one hour of real time."""
    (loaded,) = loaded_with(window(start="2027-03-28T01:30", duration_minutes=60, time_zone="Europe/Madrid"))
    assert f"{loaded.restored_at():%Y-%m-%dT%H:%M %Z}" == "2027-03-28T03:30 CEST"


@pytest.mark.parametrize(
    ("bad", "setting", "expected"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", 'an IANA time zone name like "Europe/Montevideo"'),
        ({"time_zone": "GMT+3"}, "time_zone", "an IANA time zone name"),
        ({"start": "2027-01-20 09:00"}, "start", 'a local date and time "YYYY-MM-DDTHH:MM"'),
        ({"start": "2027-01-20T09:00-03:00"}, "start", "without an offset (time_zone gives it)"),
        ({"start": "2027-02-30T09:00"}, "start", "without an offset"),
        ({"duration_minutes": 5}, "duration_minutes", "an integer from 10 to 1440, got 5"),
        ({"min_tasks": 11}, "min_tasks", "at most max_tasks (10), got 11"),
        ({"min_tasks": 2}, "min_tasks", "must be above min_tasks (2)"),
        ({"warm_up_minutes": 0}, "warm_up_minutes", "an integer from 5 to 240, got 0"),
        (
            {"start": "2027-03-28T02:30", "time_zone": "Europe/Madrid"},
            "start",
            "does not exist in Europe/Madrid",
        ),
        ({"minimum": 3}, "minimum", "unknown setting; allowed: duration_minutes, min_tasks, start"),
    ],
)
def test_bad_windows_are_refused_naming_the_setting(
    bad: dict[str, object], setting: str, expected: str
) -> None:
    errors = errors_with(window(**bad))
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{PROD_WEB}.exam_windows[0].{setting}: "), errors
    assert expected in errors[0]


def test_a_missing_setting_of_a_window_is_named() -> None:
    incomplete = window()
    del incomplete["time_zone"]
    assert errors_with(incomplete) == [
        f"{PROD_WEB}.exam_windows[0].time_zone: required setting is missing; must be an IANA time zone name "
        'like "Europe/Montevideo" or "UTC"'
    ]


def test_overlapping_windows_are_refused_warm_up_included() -> None:
    """The second window's warm-up (20 min before 11:10) starts before the first one ends at 11:00."""
    errors = errors_with(window(), window(start="2027-01-20T11:10", min_tasks=4))
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{PROD_WEB}.exam_windows[1]: overlaps exam_windows[0]")
    assert "ends at 2027-01-20 11:00 -03" in errors[0] and "at 2027-01-20 10:50 -03" in errors[0]


def test_overlap_is_found_across_time_zones_and_list_order() -> None:
    """11:30 in Madrid is 07:30 in Montevideo: inside a Montevideo window from 07:00 to 09:00."""
    errors = errors_with(
        window(start="2027-01-20T11:30", time_zone="Europe/Madrid"),
        window(start="2027-01-20T07:00"),
    )
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{PROD_WEB}.exam_windows[0]: overlaps exam_windows[1]")


def test_a_long_window_overlaps_every_window_inside_it() -> None:
    errors = errors_with(
        window(duration_minutes=600),
        window(start="2027-01-20T11:00"),
        window(start="2027-01-20T14:00"),
    )
    assert [error.split(":")[0] for error in errors] == [
        f"{PROD_WEB}.exam_windows[1]",
        f"{PROD_WEB}.exam_windows[2]",
    ]


def test_back_to_back_windows_are_fine() -> None:
    """The second one raises the minimum (at 11:00) as the first one restores it."""
    assert len(loaded_with(window(), window(start="2027-01-20T11:20"))) == 2


def test_at_most_one_hundred_windows() -> None:
    """Two scheduled actions each; Application Auto Scaling keeps at most 200 per scalable target."""
    windows = [
        window(start=f"2027-{month:02}-{day:02}T09:00") for month in range(1, 13) for day in range(1, 10)
    ]
    assert len(loaded_with(*windows[:100])) == 100
    assert errors_with(*windows[:101]) == [
        f"{PROD_WEB}.exam_windows: must list at most 100 windows (two scheduled actions each, and "
        "Application Auto Scaling keeps at most 200 per scalable target), got 101; remove past ones"
    ]


def test_the_same_start_twice_is_refused() -> None:
    errors = errors_with(window(), window())
    assert errors == [
        f'{PROD_WEB}.exam_windows[1].start: "2027-01-20T09:00" is listed twice; list each start once'
    ]


def _scheduled_actions(template: TemplateOf, environment: str) -> list[dict[str, Any]]:
    targets = template(environment, "Application").find_resources(
        "AWS::ApplicationAutoScaling::ScalableTarget"
    )
    (target,) = targets.values()
    actions: list[dict[str, Any]] = target["Properties"].get("ScheduledActions", [])
    return actions


def test_each_window_raises_the_minimum_before_it_and_restores_it_after(template: TemplateOf) -> None:
    actions = _scheduled_actions(template, "prod-domain")
    assert actions == [
        {
            "ScheduledActionName": "exam-20270614T0900-raise",
            "Schedule": "at(2027-06-14T08:40:00)",
            "Timezone": "America/Montevideo",
            "ScalableTargetAction": {"MinCapacity": 6, "MaxCapacity": 10},
        },
        {
            "ScheduledActionName": "exam-20270614T0900-restore",
            "Schedule": "at(2027-06-14T12:00:00)",
            "Timezone": "America/Montevideo",
            "ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": 10},
        },
        {
            "ScheduledActionName": "exam-20270615T1430-raise",
            "Schedule": "at(2027-06-15T13:45:00)",
            "Timezone": "Europe/Madrid",
            "ScalableTargetAction": {"MinCapacity": 4, "MaxCapacity": 10},
        },
        {
            "ScheduledActionName": "exam-20270615T1430-restore",
            "Schedule": "at(2027-06-15T16:00:00)",
            "Timezone": "Europe/Madrid",
            "ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": 10},
        },
    ]
    assert [name for w in EXAM_WINDOWS for name in action_names(w)] == [
        a["ScheduledActionName"] for a in actions
    ]


def test_without_windows_there_are_no_scheduled_actions(template: TemplateOf) -> None:
    assert _scheduled_actions(template, "prod") == []
