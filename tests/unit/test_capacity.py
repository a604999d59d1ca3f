"""Autoscaling targets derived from the measured capacity (moodle_infra/capacity.py, docs/CAPACITY.md):
an environment that leaves them null gets them from the table; a table without a capacity refuses null."""

import copy
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from moodle_infra import capacity
from moodle_infra.config import ConfigError, load_config

SHIPPED = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]["moodle"]


def _run(cpu: int, students: float, cpu_percent: float) -> dict[str, Any]:
    return {
        "size": {"cpu": cpu},
        "capacity_equivalent_students": students,
        "sync_start": {"started": 250, "drain_seconds": 25.0, "errors": 0},
        "steps": [{"holds": students > 0, "web_cpu_percent": cpu_percent}],
        "per_request": {"db_cpu_ms": 14.0, "redis_commands": 127.0},
    }


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A results.json of one's own in place of docs/capacity/results.json."""
    results = tmp_path / "results.json"
    monkeypatch.setattr(capacity, "RESULTS", results)
    capacity.shipped_table.cache_clear()
    yield results
    capacity.shipped_table.cache_clear()


def _null_targets(environment: str) -> dict[str, Any]:
    raw: dict[str, Any] = copy.deepcopy(SHIPPED)
    raw["environments"][environment].setdefault("web", {}).update(
        {"cpu_target_percent": None, "requests_per_target": None}
    )
    return raw


def test_null_targets_come_from_the_measured_students_with_headroom(table: Path) -> None:
    table.write_text(json.dumps({capacity.MEASURED: {"runs": [_run(1024, 500, 80.0)]}}))
    web = load_config(_null_targets("prod")).environments["prod"].web
    assert (web.cpu_target_percent, web.requests_per_target) == (None, None)
    # 500 students, a page (two requests) per 60 s each, 70 % of it: 700 requests per task per minute.
    assert capacity.requests_per_target(1024) == 700 == math.floor(500 * 2 * 0.7)
    assert capacity.cpu_target_percent(1024) == 56
    # A size that was not measured is scaled per vCPU from the nearest.
    assert capacity.requests_per_target(2048) == 1400
    assert capacity.cpu_target_percent(2048) == 56


def test_a_configured_target_is_kept() -> None:
    raw: dict[str, Any] = copy.deepcopy(SHIPPED)
    raw["environments"]["prod"].setdefault("web", {}).update(
        {"cpu_target_percent": 60, "requests_per_target": 200}
    )
    web = load_config(raw).environments["prod"].web
    assert (web.cpu_target_percent, web.requests_per_target) == (60, 200)


def test_the_shipped_targets_come_from_the_committed_measurement() -> None:
    """cdk.json leaves both targets to the table: 1 vCPU tasks held 500 students at 69.7 % of their CPU."""
    web = load_config(SHIPPED).environments["prod"].web
    assert (web.cpu, web.cpu_target_percent, web.requests_per_target) == (1024, None, None)
    row, scaled = capacity.for_size(capacity.shipped_table(), 1024)
    assert not scaled
    assert capacity.requests_per_target(1024) == math.floor(row.students * 2 * 0.7) >= 350
    assert capacity.cpu_target_percent(1024) == math.floor(row.cpu_percent * 0.7)


@pytest.mark.parametrize(
    ("results", "why"),
    [
        (None, "results.json is missing (make bench-exam writes it)"),
        ({}, 'it has no run "php-fpm sized from the task"'),
        ([_run(1024, 0, 0.0)], "the measured table holds no capacity for 1 vCPU tasks"),
    ],
)
def test_a_target_left_to_a_missing_measurement_is_refused(
    table: Path, results: list[dict[str, Any]] | dict[str, Any] | None, why: str
) -> None:
    if results is not None:
        table.write_text(json.dumps({capacity.MEASURED: {"runs": results}} if results else {}))
    with pytest.raises(ConfigError) as raised:
        load_config(_null_targets("prod"))
    for name in ("cpu_target_percent", "requests_per_target"):
        expected = f"must be set: null derives it from docs/capacity/results.json, but {why}"
        assert f"moodle.environments.prod.web.{name}: {expected}" in raised.value.errors


def test_a_run_the_host_starved_is_left_out_and_its_size_scaled_from_the_nearest(table: Path) -> None:
    """The 2 vCPU run on the 2-core bench machine failed its 500-per-vCPU step with the task at 63 % of its
    limit and the host's cores 92 % busy: that measured the machine, not the task."""
    starved = _run(2048, 500, 35.0) | {"host_limited": True}
    table.write_text(json.dumps({capacity.MEASURED: {"runs": [_run(1024, 500, 70.0), starved]}}))
    row, scaled = capacity.for_size(capacity.shipped_table(), 2048)
    assert scaled
    assert (row.students, row.cpu_percent) == (1000, 70.0)
    assert capacity.cpu_target_percent(2048) == 49
