"""Figures of an exam run (``make bench-exam``): latency per think-time step, the synchronized start, CPU per
request type, and the capacity they give. Standard library only: the bench's virtualenv draws the pictures.

Scaling back to the anchor (docs/CAPACITY.md): a student who thinks T seconds per page asks for a page every
T seconds, so N simulated students at think time T load the site like N x 60 / T students at the anchor's
30-90 s (mean 60 s). The synchronized start is not scaled: every simulated student presses the button.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ANCHOR_THINK_SECONDS = 60.0
"""The mean of the anchor's 30-90 s think time per page."""
P95_LIMIT_MS = 1500.0
QUIZ_PAGES = ("quiz page", "submit")
"""Requests a student makes while answering: a page submitted and the next one shown, the final submit."""
MIN_SAMPLES = 20
"""A step with fewer quiz pages says nothing about its p95."""


@dataclass(frozen=True)
class Request:
    second: float
    """When it was sent, in seconds since the synchronized start (negative before it)."""
    name: str
    ms: float
    error: str


def read_requests(path: Path) -> list[Request]:
    with path.open() as stream:
        return [
            Request(float(row["second"]), row["name"], float(row["ms"]), row["error"])
            for row in csv.DictReader(stream)
        ]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN without values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass(frozen=True)
class Step:
    think_seconds: float
    start: float
    end: float
    equivalent_students: float
    pages: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def holds(self) -> bool:
        return self.pages >= MIN_SAMPLES and self.errors == 0 and self.p95_ms <= P95_LIMIT_MS


def steps(
    requests: Iterable[Request], schedule: Sequence[tuple[float, float]], students: int, offset: float
) -> list[Step]:
    """Quiz pages sent during each (think seconds, duration) step of the schedule, which starts ``offset``
    seconds after the synchronized start (when the start has drained). A student may still be thinking a
    think time drawn in the step before (up to 1.5 times that step's think time, or this step's for the
    first), so each step is measured only after that much of it has passed: a step shorter than that
    measures nothing."""
    pages = [request for request in requests if request.name in QUIZ_PAGES]
    found = []
    start = offset
    previous_think = schedule[0][0] if schedule else 0.0
    for think, seconds in schedule:
        settled = start + 1.5 * previous_think
        inside = [page for page in pages if settled <= page.second < start + seconds]
        good = [page.ms for page in inside if not page.error]
        found.append(
            Step(
                think_seconds=think,
                start=settled,
                end=start + seconds,
                equivalent_students=students * ANCHOR_THINK_SECONDS / think,
                pages=len(inside),
                errors=len(inside) - len(good),
                p50_ms=percentile(good, 0.50),
                p95_ms=percentile(good, 0.95),
                p99_ms=percentile(good, 0.99),
            )
        )
        start += seconds
        previous_think = think
    return found


def capacity(found: Sequence[Step]) -> float:
    """The most equivalent students of a step that held p95 <= 1.5 s without errors; 0 if none did."""
    return max((step.equivalent_students for step in found if step.holds), default=0.0)


@dataclass(frozen=True)
class SyncStart:
    students: int
    started: int
    errors: int
    p95_ms: float
    drain_seconds: float
    """From the synchronized start until the last student saw the first page of the attempt."""


def sync_start(requests: Iterable[Request], students: int) -> SyncStart:
    starts = [request for request in requests if request.name == "start attempt"]
    good = [request for request in starts if not request.error]
    return SyncStart(
        students=students,
        started=len(good),
        errors=len(starts) - len(good),
        p95_ms=percentile([request.ms for request in good], 0.95),
        drain_seconds=max((request.second + request.ms / 1000 for request in good), default=math.nan),
    )


def drain_curve(requests: Iterable[Request]) -> list[tuple[float, int]]:
    """(seconds since the start, attempts started so far), one point per started attempt."""
    done = sorted(r.second + r.ms / 1000 for r in requests if r.name == "start attempt" and not r.error)
    return [(second, count) for count, second in enumerate(done, start=1)]


# php-fpm's access log of the bench (tools/bench_exam.py sets the format): "METHOD URI STATUS MS CPU% KB".
ACCESS_LINE = re.compile(r"^(\w+) (\S+) (\d{3}) ([\d.]+) ([\d.]+) (\d+)$")
SCRIPTS = {
    "/login/index.php": "login",
    "/my/index.php": "dashboard",
    "/course/view.php": "course",
    "/mod/quiz/view.php": "quiz view",
    "/mod/quiz/startattempt.php": "start attempt",
    "/mod/quiz/attempt.php": "attempt page",
    "/mod/quiz/processattempt.php": "process page",
    "/mod/quiz/summary.php": "summary",
    "/mod/quiz/review.php": "review",
}


@dataclass(frozen=True)
class CpuCost:
    request_type: str
    count: int
    cpu_ms_mean: float
    cpu_ms_p95: float
    wall_ms_mean: float
    peak_memory_kb_max: int


def cpu_per_request_type(lines: Iterable[str]) -> list[CpuCost]:
    """CPU milliseconds per request type from php-fpm's own accounting (user + system time of the worker
    while it served the request)."""
    by_type: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for line in lines:
        match = ACCESS_LINE.match(line.strip())
        if not match:
            continue
        _, uri, _, wall_ms, cpu_percent, memory_kb = match.groups()
        script = uri.split("?", 1)[0]
        script = script if script.endswith(".php") else script.rstrip("/") + "/index.php"
        name = SCRIPTS.get(script, "other")
        by_type[name].append((float(wall_ms) * float(cpu_percent) / 100, float(wall_ms), int(memory_kb)))
    return [
        CpuCost(
            request_type=name,
            count=len(rows),
            cpu_ms_mean=sum(row[0] for row in rows) / len(rows),
            cpu_ms_p95=percentile([row[0] for row in rows], 0.95),
            wall_ms_mean=sum(row[1] for row in rows) / len(rows),
            peak_memory_kb_max=max(row[2] for row in rows),
        )
        for name, rows in sorted(by_type.items())
    ]


HOST_COUNTERS = ("web_cpu_ms", "db_cpu_ms", "redis_cpu_ms", "loadgen_cpu_ms")
"""Everything the bench runs on the host: the web task, the database, Redis and the load generator."""
SATURATED_PERCENT = 90.0


def cpu_percent(
    samples: Sequence[dict[str, float]], origin: float, step: Step, counters: Sequence[str], cores: float
) -> float:
    """CPU the processes of ``counters`` (cumulative CPU milliseconds in the once-a-second samples) used
    during a step, in percent of ``cores``: the web task's limit (what ECS reports), or the host's."""
    inside = [
        row for row in samples
        if step.start <= row["time"] - origin <= step.end and not any(math.isnan(row[c]) for c in counters)
    ]  # fmt: skip
    if len(inside) < 2:
        return math.nan
    used = sum(inside[-1][counter] - inside[0][counter] for counter in counters)
    return round(100 * used / ((inside[-1]["time"] - inside[0]["time"]) * 1000 * cores), 1)


def step_figures(
    step: Step, samples: Sequence[dict[str, float]], origin: float, vcpu: float, host_cores: int
) -> dict[str, Any]:
    return asdict(step) | {
        "holds": step.holds,
        "web_cpu_percent": cpu_percent(samples, origin, step, ("web_cpu_ms",), vcpu),
        "host_cpu_percent": cpu_percent(samples, origin, step, HOST_COUNTERS, host_cores),
    }


def host_limited(found: Sequence[dict[str, Any]]) -> bool:
    """A step failed while the web task used less than 90 % of its CPU limit and the host's cores were at
    least 90 % busy: the machine starved the task (the database, Redis and the load generator share it),
    so the step says nothing about the task's own capacity."""
    return any(
        not step["holds"]
        and step["web_cpu_percent"] < SATURATED_PERCENT
        and step.get("host_cpu_percent", 0.0) >= SATURATED_PERCENT
        for step in found
    )


def cpu_ms_per_start(
    samples: Sequence[dict[str, float]], origin: float, start: SyncStart, counter: str
) -> float:
    """CPU milliseconds a process (``counter``: the database's, say) spent per student of the synchronized
    start, from the click until the last first page: what N students starting together cost it."""
    inside = [row for row in samples if 0 <= row["time"] - origin <= start.drain_seconds]
    if len(inside) < 2 or not start.started:
        return math.nan
    return round((inside[-1][counter] - inside[0][counter]) / start.started, 1)


def read_samples(path: Path) -> list[dict[str, float]]:
    with path.open() as stream:
        return [{key: float(value) for key, value in row.items()} for row in csv.DictReader(stream)]


def reanalyse(out: Path, label: str, schedule: Sequence[tuple[float, float]]) -> None:
    """Recompute the steps of one results.json run label from its raw request and monitor logs: for a
    schedule other than the one the bench assumed (a run whose students thought differently), or to add
    figures a newer analysis computes (docs/CAPACITY.md)."""
    path = out / "results.json"
    results = json.loads(path.read_text())
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    cores = int(results[label]["machine"]["cpus"])
    for run in results[label]["runs"]:
        requests = read_requests(out / f"requests-{slug}-{run['size']['cpu']}.csv")
        samples = read_samples(out / f"monitor-{slug}-{run['size']['cpu']}.csv")
        start = sync_start(requests, run["arrived"])
        found = steps(requests, schedule, run["arrived"], start.drain_seconds)
        origin, vcpu = float(run["start_epoch"]), float(run["size"]["vcpu"])
        run["steps"] = [step_figures(step, samples, origin, vcpu, cores) for step in found]
        run["host_limited"] = host_limited(run["steps"])
        run["sync_start"] = asdict(start) | {
            "db_cpu_ms_per_student": cpu_ms_per_start(samples, origin, start, "db_cpu_ms")
        }
        run["capacity_equivalent_students"] = capacity(found)
        run["steps_reanalysed_for"] = ",".join(f"{think:g}:{seconds:g}" for think, seconds in schedule)
    path.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    # python -m tools.exam.analysis docs/capacity "<label>" 60:420
    reanalyse(
        Path(sys.argv[1]),
        sys.argv[2],
        [(float(t), float(s)) for t, s in (step.split(":") for step in sys.argv[3].split(","))],
    )
