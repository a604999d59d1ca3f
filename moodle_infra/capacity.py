"""The measured capacity of one web task (``make bench-exam``, docs/CAPACITY.md), and the autoscaling
targets that follow from it instead of guesses in cdk.json.

The table is docs/capacity/results.json as the bench wrote it and git reviewed it. A task size that was not
measured is scaled per vCPU from the nearest one that was.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "capacity" / "results.json"
MEASURED = "php-fpm sized from the task"
"""The run of results.json whose php-fpm pool is the task definition's."""
ANCHOR_THINK_SECONDS = 60.0
REQUESTS_PER_PAGE = 2
"""A quiz page is a POST to processattempt.php and the GET of the next page it redirects to."""
SYNC_START_SECONDS = 30.0
HEADROOM = 0.7
"""Autoscaling aims at 70 % of the measured capacity: the rest absorbs load while new tasks start."""


@dataclass(frozen=True)
class Measured:
    """One task size of the measured table."""

    cpu: int
    students: float
    """Simultaneous students (anchor think time) with quiz-page p95 <= 1.5 s and no errors."""
    sync_students: float
    """Students whose synchronized start one task completes within 30 s without errors."""
    cpu_percent: float
    """The task's CPU use, in percent of its limit, while it held ``students``."""
    db_cpu_ms_per_request: float
    redis_commands_per_request: float
    db_cpu_ms_per_start: float = 0.0
    """The database's CPU per student of the synchronized start (0: not measured; a start is then taken
    as two average requests, the click and the first page)."""

    @property
    def db_start_cost_ms(self) -> float:
        return self.db_cpu_ms_per_start or REQUESTS_PER_PAGE * self.db_cpu_ms_per_request


def measured_table(results: dict[str, Any], label: str = MEASURED) -> list[Measured]:
    """The runs of ``label``, less those the bench's host starved (``host_limited``: a step failed while
    the machine's cores, not the task's limit, were full): their failing steps measured the machine."""
    table = []
    for run in results[label]["runs"]:
        if run.get("host_limited"):
            continue
        start = run["sync_start"]
        drain = start["drain_seconds"]
        within = (
            start["started"] if drain <= SYNC_START_SECONDS else start["started"] * SYNC_START_SECONDS / drain
        )
        holding = [step for step in run["steps"] if step["holds"]]
        table.append(
            Measured(
                cpu=run["size"]["cpu"],
                students=run["capacity_equivalent_students"],
                sync_students=0.0 if start["errors"] else within,
                cpu_percent=max((step["web_cpu_percent"] for step in holding), default=0.0),
                db_cpu_ms_per_request=run["per_request"]["db_cpu_ms"],
                redis_commands_per_request=run["per_request"]["redis_commands"],
                db_cpu_ms_per_start=start.get("db_cpu_ms_per_student") or 0.0,
            )
        )
    return table


@cache
def shipped_table() -> tuple[Measured, ...]:
    return tuple(measured_table(json.loads(RESULTS.read_text())))


def for_size(table: tuple[Measured, ...] | list[Measured], cpu: int) -> tuple[Measured, bool]:
    """The measured row of ``cpu``, or the nearest one scaled per vCPU (True when scaled)."""
    nearest = min(table, key=lambda row: abs(math.log(row.cpu / cpu)))
    if nearest.cpu == cpu:
        return nearest, False
    factor = cpu / nearest.cpu
    scaled = Measured(
        cpu=cpu,
        students=nearest.students * factor,
        sync_students=nearest.sync_students * factor,
        cpu_percent=nearest.cpu_percent,
        db_cpu_ms_per_request=nearest.db_cpu_ms_per_request,
        redis_commands_per_request=nearest.redis_commands_per_request,
        db_cpu_ms_per_start=nearest.db_cpu_ms_per_start,
    )
    return scaled, True


def unmeasured(cpu: int) -> str | None:
    """Why no target can be derived for ``cpu``: no table, or no step that held on the nearest size."""
    if not RESULTS.exists():
        return f"{RESULTS.name} is missing (make bench-exam writes it)"
    if MEASURED not in json.loads(RESULTS.read_text()):
        return f'it has no run "{MEASURED}"'
    row, _ = for_size(shipped_table(), cpu)
    if row.students <= 0 or row.cpu_percent <= 0:
        return f"the measured table holds no capacity for {row.cpu / 1024:g} vCPU tasks"
    return None


def requests_per_target(cpu: int) -> int:
    """ALB requests per task per minute to aim at: the students one task holds, each asking for a page
    (two requests) per anchor think time, times the headroom."""
    row, _ = for_size(shipped_table(), cpu)
    per_minute = row.students * REQUESTS_PER_PAGE * 60 / ANCHOR_THINK_SECONDS
    return max(1, math.floor(per_minute * HEADROOM))


def cpu_target_percent(cpu: int) -> int:
    """CPU utilization to aim at: the headroom's share of what the task used while it held its capacity,
    within the 10-90 % that the configuration allows."""
    row, _ = for_size(shipped_table(), cpu)
    return min(90, max(10, math.floor(row.cpu_percent * HEADROOM)))
