"""The sizing command (tools/exam_sizing.py): N students -> minimum tasks, database and cache."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from moodle_infra.capacity import MEASURED, Measured, for_size, measured_table
from moodle_infra.config import load_config
from tools import exam_sizing
from tools.exam_sizing import advise, database_class

CONFIG = load_config(
    json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]["moodle"]
)


def run(cpu: int, students: float, started: int, drain: float, errors: int = 0) -> dict:
    return {
        "size": {"cpu": cpu},
        "capacity_equivalent_students": students,
        "steps": [{"holds": True, "web_cpu_percent": 60.0}, {"holds": False, "web_cpu_percent": 99.0}],
        "sync_start": {"started": started, "drain_seconds": drain, "errors": errors},
        "per_request": {"db_cpu_ms": 5.0, "redis_commands": 40.0},
    }


def test_a_start_that_drains_late_counts_only_what_30_s_would_start() -> None:
    results = {MEASURED: {"runs": [run(512, 250, 125, 20.0), run(1024, 500, 250, 60.0)]}}
    table = measured_table(results)
    assert [row.sync_students for row in table] == [125, 125]


def test_a_start_with_errors_counts_as_no_capacity() -> None:
    (row,) = measured_table({MEASURED: {"runs": [run(512, 250, 125, 20.0, errors=1)]}})
    assert row.sync_students == 0


def test_an_unmeasured_size_is_scaled_per_vcpu_from_the_nearest() -> None:
    table = [Measured(512, 100, 50, 60.0, 5.0, 40.0), Measured(2048, 500, 200, 60.0, 5.0, 40.0)]
    assert for_size(table, 512) == (table[0], False)
    scaled, was_scaled = for_size(table, 1024)
    assert was_scaled and (scaled.students, scaled.sync_students) == (200, 100)
    assert for_size(table, 4096)[0].students == 1000


def test_the_minimum_covers_both_the_pages_and_the_synchronized_start() -> None:
    prod = CONFIG.environments["prod"]
    table = [Measured(1024, 400, 100, 60.0, 2.0, 40.0)]
    lines = advise(1000, prod, table)
    assert "min_tasks 10 for the exam window (3 for the pages, 10 for the start)" in lines[1]
    assert not any("raise it" in line for line in lines), "prod's max_tasks is 10"
    more = advise(1500, prod, table)
    assert "max_tasks is 10: raise it to at least 15" in more[2]


def test_the_database_is_sized_by_sustained_cpu_and_connections() -> None:
    assert database_class(0.1, 20) == "t4g.micro"
    assert database_class(0.2, 20) == "t4g.small", "micro sustains 2 x 10 % x 70 % = 0.14 vCPU"
    assert database_class(0.1, 120) == "t4g.small", "micro allows ~85 connections"
    assert database_class(1.2, 100) == "m7g.large"
    assert database_class(1000, 100) == "m7g.8xlarge or larger"


def test_no_measurement_for_the_size_says_so() -> None:
    dev = replace(CONFIG.environments["dev"])
    assert "no measured capacity" in advise(100, dev, [Measured(512, 0, 0, 60.0, 1.0, 1.0)])[0]


def test_the_command_reads_the_shipped_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({MEASURED: {"runs": [run(1024, 400, 250, 25.0)]}}))
    assert exam_sizing.main(["--students", "2000", "--environment", "prod", "--results", str(results)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"measured run: {MEASURED} ({results})"
    assert out.splitlines()[1].startswith("2000 students, environment prod: web tasks of 1 vCPU / 2048 MiB")
    assert '"min_tasks": 8' in out


def test_the_database_is_sized_for_the_start_by_its_measured_cost_per_student() -> None:
    """2,000 starts within 30 s at 26 ms of database CPU each need 1.73 vCPU, more than the pages' 0.67."""
    prod = CONFIG.environments["prod"]
    measured = Measured(1024, 500, 250, 70.0, 10.0, 40.0, db_cpu_ms_per_start=26.0)
    (database,) = [line for line in advise(2000, prod, [measured]) if "database:" in line]
    assert (
        "~1.73 vCPU busy (0.67 for the pages at 67 requests/s, 1.73 for 2000 starts within 30 s)" in database
    )
    assert "-> m7g.xlarge" in database
    # Not measured: a start counts as two average requests, the click and the first page.
    unmeasured = advise(2000, prod, [replace(measured, db_cpu_ms_per_start=0.0)])
    assert "1.33 for 2000 starts within 30 s" in next(line for line in unmeasured if "database:" in line)


def test_the_table_carries_the_database_cost_of_a_start() -> None:
    measured_run = run(1024, 500, 250, 25.0)
    measured_run["sync_start"]["db_cpu_ms_per_student"] = 26.1
    (row,) = measured_table({MEASURED: {"runs": [measured_run]}})
    assert row.db_cpu_ms_per_start == 26.1
    assert for_size([row], 2048)[0].db_cpu_ms_per_start == 26.1, "a per-student cost does not scale with vCPU"
