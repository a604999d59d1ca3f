"""N students in an exam: which minimum of web tasks, and which database and cache sizes?

    .venv/bin/python -m tools.exam_sizing --students 2000 --environment prod

Answers from the measured table of ``make bench-exam`` (docs/capacity/results.json; the method and its
limits: docs/CAPACITY.md) and the environment's configuration in cdk.json. A task size that was not measured
is scaled per vCPU from the nearest one that was.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from moodle_infra.capacity import (
    ANCHOR_THINK_SECONDS,
    MEASURED,
    REQUESTS_PER_PAGE,
    RESULTS,
    SYNC_START_SECONDS,
    Measured,
    for_size,
    measured_table,
)
from moodle_infra.config import EnvironmentConfig, load_config
from moodle_infra.php_fpm import pool_for

ROOT = Path(__file__).resolve().parent.parent
UTILIZATION = 0.7
"""The share of a database's sustained CPU the exam may use."""

# vCPU, GiB and the sustained share of the vCPU (burstable classes run at a baseline and spend credits above
# it: Amazon EC2 T4g baselines, which RDS's db.t4g classes share).
DATABASE_CLASSES: tuple[tuple[str, int, int, float], ...] = (
    ("t4g.micro", 2, 1, 0.10),
    ("t4g.small", 2, 2, 0.20),
    ("t4g.medium", 2, 4, 0.20),
    ("t4g.large", 2, 8, 0.30),
    ("m7g.large", 2, 8, 1.0),
    ("m7g.xlarge", 4, 16, 1.0),
    ("m7g.2xlarge", 8, 32, 1.0),
    ("m7g.4xlarge", 16, 64, 1.0),
    ("m7g.8xlarge", 32, 128, 1.0),
)
BYTES_PER_CONNECTION = 12582880
"""RDS for MySQL's default max_connections is {DBInstanceClassMemory/12582880}."""


def database_class(vcpu_needed: float, connections: int) -> str:
    """The smallest class whose sustained CPU at 70 % and default max_connections hold the exam."""
    for name, vcpu, gib, baseline in DATABASE_CLASSES:
        if (
            vcpu * baseline * UTILIZATION >= vcpu_needed
            and gib * 2**30 // BYTES_PER_CONNECTION >= connections
        ):
            return name
    return DATABASE_CLASSES[-1][0] + " or larger"


def advise(students: int, environment: EnvironmentConfig, table: list[Measured]) -> list[str]:
    web = environment.web
    row, scaled = for_size(table, web.cpu)
    measured_cpu = min(table, key=lambda measured: abs(math.log(measured.cpu / web.cpu))).cpu
    if row.students <= 0 or row.sync_students <= 0:
        return [
            f"no measured capacity for {web.cpu / 1024:g} vCPU tasks: run make bench-exam (docs/CAPACITY.md)"
        ]
    steady = math.ceil(students / row.students)
    spike = math.ceil(students / row.sync_students)
    tasks = max(steady, spike, web.min_tasks)
    workers = pool_for(cpu=web.cpu, memory_mib=web.memory_mib).max_children
    # A page every 60 s per student, plus its redirect; the synchronized start packs N starts (the click and
    # the first page) into 30 s.
    page_requests_per_second = students * REQUESTS_PER_PAGE / ANCHOR_THINK_SECONDS
    requests_per_second = max(page_requests_per_second, students * REQUESTS_PER_PAGE / SYNC_START_SECONDS)
    db_pages = page_requests_per_second * row.db_cpu_ms_per_request / 1000
    db_start = students / SYNC_START_SECONDS * row.db_start_cost_ms / 1000
    db_vcpu = max(db_pages, db_start)
    connections = tasks * workers
    suggested_db = database_class(db_vcpu, connections)
    lines = [
        f"{students} students, environment {environment.name}: web tasks of {web.cpu / 1024:g} vCPU / "
        f"{web.memory_mib} MiB, {workers} php-fpm workers each"
        + (
            f" (figures scaled per vCPU from the measured {measured_cpu / 1024:g} vCPU size)"
            if scaled
            else ""
        ),
        f"  web: one task holds {row.students:.0f} students at p95 <= 1.5 s and starts "
        f"{row.sync_students:.0f} within 30 s -> min_tasks {tasks} for the exam window ({steady} for the "
        f"pages, {spike} for the start)",
    ]
    if tasks > web.max_tasks:
        lines.append(f"  web: max_tasks is {web.max_tasks}: raise it to at least {tasks}")
    lines += [
        f"  database: ~{db_vcpu:.2f} vCPU busy ({db_pages:.2f} for the pages at "
        f"{page_requests_per_second:.0f} requests/s, {db_start:.2f} for {students} starts within 30 s), "
        f"up to {connections} connections -> {suggested_db} "
        f"(configured: {environment.database.instance_type})",
        f"  cache: ~{requests_per_second * row.redis_commands_per_request:.0f} commands/s, up to "
        f"{connections * 2} connections (limit 65,000 per node) -> {environment.cache.node_type} holds it",
        "  cdk.json: web.exam_windows: "
        + json.dumps(
            {
                "start": "YYYY-MM-DDTHH:MM",
                "duration_minutes": 120,
                "time_zone": "Area/City",
                "min_tasks": tasks,
            }
        ),
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--students", type=int, required=True)
    parser.add_argument("--environment", default="prod")
    parser.add_argument("--results", type=Path, default=RESULTS)
    arguments = parser.parse_args(argv)
    config = load_config(json.loads((ROOT / "cdk.json").read_text())["context"]["moodle"])
    environments = {**config.environments, "sandbox": config.sandbox}
    if arguments.environment not in environments:
        parser.error(f"--environment must be one of {', '.join(environments)}")
    results = json.loads(arguments.results.read_text())
    # The task definition's pool when it was measured; otherwise the run that was (named in the answer).
    label = MEASURED if MEASURED in results else next(iter(results))
    table = measured_table(results, label)
    print(f"measured run: {label} ({arguments.results})")
    print("\n".join(advise(arguments.students, environments[arguments.environment], table)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
