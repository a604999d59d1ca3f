"""Exam-day capacity of one web task: ``make bench-exam`` (issue 19, docs/CAPACITY.md).

Opt-in: MOODLE_SRC names a Moodle tree (docs/IMAGE.md, "Testing against real Moodle"). On the container
harness (tests/image/container.py): the image built from that tree, MySQL (the tests' server, a
container) and Redis (AUTH, TLS verified against a CA file shaped like the image's) on loopback,
install-or-upgrade, then the exam's data set made inside the image by Moodle's own APIs
(tools/exam/make_exam.php). For each task size the web container runs
with that Fargate size's CPU and memory (podman --cpus/--memory) and php-fpm sized as the task definition
sizes it (moodle_infra/php_fpm.py); Locust students (tools/exam/students.py, in .venv-bench) log in, wait,
start the quiz at the same moment and answer its 8 pages under a schedule of think times. Afterwards the
database is checked: every started attempt finished and every answer the students were told was saved is
stored. Writes the report, the raw CSV and the PNGs to BENCH_EXAM_OUT (default docs/capacity).

Settings (environment): BENCH_EXAM_SIZES ("cpu:memory,..." in Fargate units, default
"512:1024,1024:2048,2048:4096"), BENCH_EXAM_STUDENTS_PER_VCPU (default 250), BENCH_EXAM_STEPS
("think:seconds,...", default "60:120,30:120,15:60"), BENCH_EXAM_POOL ("cpu" as the task definition sizes
php-fpm, or a fixed worker count, to compare), BENCH_EXAM_LABEL (the name of the run in results.json),
BENCH_EXAM_BASELINE ("workers@cpu:memory": a "before" run with a fixed pool first, in the same run).
Needs podman, mmdebstrap, runc, redis-server and curl (Debian packages; MySQL runs in a container:
tests/image/mysql_server.py), and .venv-bench.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from moodle_infra.php_fpm import PhpFpmPool, pool_for
from tests.image.container import REPO_ROOT, Container, Mount, podman, run_container, start_web, web_url
from tests.image.image_testlib import make_runtime_dir
from tests.image.mysql_server import MySQL
from tools.bench_moodle import Services, bench_site, configure, moodle_tree, site_env
from tools.exam import analysis

BENCH_VENV = REPO_ROOT / ".venv-bench"
EXAM_TOOLS = REPO_ROOT / "tools" / "exam"
STUDENT_PASSWORD = "Exam-Student-1!"
PHP_FPM_CONF = "/etc/php/8.4/fpm/php-fpm.conf"
ACCESS_FORMAT = '"%m %r %s %{milli}d %{total}C %{kilo}M"'
"""php-fpm's own accounting per request; tools/exam/analysis.py reads it."""
DB_STATUS = (
    "Threads_connected",
    "Threads_running",
    "Innodb_row_lock_waits",
    "Innodb_row_lock_time",
    "Questions",
)


@dataclass(frozen=True)
class Size:
    cpu: int
    memory_mib: int

    @property
    def vcpu(self) -> float:
        return self.cpu / 1024

    @property
    def label(self) -> str:
        return f"{self.vcpu:g} vCPU / {self.memory_mib / 1024:g} GiB"


def setting(name: str, default: str) -> str:
    return os.environ.get(name) or default


def label() -> str:
    """The name of this run in results.json; raw files carry it as a slug."""
    return setting("BENCH_EXAM_LABEL", "php-fpm sized from the task")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass(frozen=True)
class Variant:
    """What one set of runs measures: its name in results.json, its php-fpm pool and its task sizes."""

    label: str
    pool: str
    """"cpu" (as the task definition sizes it) or a fixed number of workers."""
    sizes: tuple[Size, ...]


def variants() -> list[Variant]:
    """BENCH_EXAM_BASELINE ("workers@cpu:memory", e.g. "10@512:1024") first, the "before" of a bottleneck
    removed, measured in the same run; then the task definition's pool on every size."""
    found = []
    baseline = setting("BENCH_EXAM_BASELINE", "")
    if baseline:
        workers, size = baseline.split("@")
        label_ = f"before: {workers} php-fpm workers, the image's default"
        found.append(Variant(label_, workers, (Size(*map(int, size.split(":"))),)))
    found.append(Variant(label(), setting("BENCH_EXAM_POOL", "cpu"), tuple(sizes())))
    return found


def sizes() -> list[Size]:
    pairs = setting("BENCH_EXAM_SIZES", "512:1024,1024:2048,2048:4096").split(",")
    return [Size(*map(int, pair.split(":"))) for pair in pairs]


def students_for(size: Size) -> int:
    return round(float(setting("BENCH_EXAM_STUDENTS_PER_VCPU", "250")) * size.vcpu)


def schedule() -> list[tuple[float, float]]:
    steps = setting("BENCH_EXAM_STEPS", "60:120,30:120,15:60").split(",")
    return [(float(think), float(seconds)) for think, seconds in (step.split(":") for step in steps)]


def pool(size: Size, chosen: str) -> PhpFpmPool:
    """As the task definition sizes php-fpm ("cpu"), or a fixed worker count to compare against it."""
    if chosen == "cpu":
        return pool_for(cpu=size.cpu, memory_mib=size.memory_mib)
    workers = int(chosen)
    return PhpFpmPool(
        max_children=workers, start_servers=workers // 2 or 1, min_spare_servers=workers // 2 or 1,
        max_spare_servers=workers,
    )  # fmt: skip


def uptime_loads() -> tuple[float, float, float]:
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


def make_exam(image: str, found: Services, mounts: list[Mount], students: int) -> dict[str, object]:
    """The course, students and quiz, made inside the image (tools/exam/make_exam.php)."""
    result = run_container(
        image, "php", "/bench/make_exam.php", f"--students={students}", f"--password={STUDENT_PASSWORD}",
        env=site_env(found, tls=True), mounts=[*mounts, (EXAM_TOOLS, "/bench", "ro")], timeout=1200,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"make_exam.php failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    exam: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return exam


def php_fpm_conf(directory: Path) -> Path:
    """The image's php-fpm.conf plus an access log with php-fpm's CPU accounting, the bench's only change."""
    conf = (REPO_ROOT / "image" / "php-fpm" / "moodle.conf").read_text()
    logging = f"access.log = /bench-out/php-fpm-access.log\naccess.format = {ACCESS_FORMAT}\n"
    path = directory / "php-fpm.conf"
    path.write_text(conf.replace("[moodle]\n", "[moodle]\n" + logging, 1))
    path.chmod(0o644)
    return path


class Monitor(threading.Thread):
    """Once a second: CPU of the web container, the database, Redis and the load generator; the database's
    connections, running threads and row-lock waits; Redis's clients and commands."""

    def __init__(self, found: Services, db_pid: int, web: Container, out: Path) -> None:
        super().__init__(daemon=True)
        self.found, self.db_pid, self.out = found, db_pid, out
        self.cgroup = podman("inspect", "--format", "{{.State.CgroupPath}}", web.name).stdout.strip()
        self.loadgen_pid = 0
        self.stopping = threading.Event()
        self.rows: list[dict[str, float]] = []

    def web_counters(self) -> tuple[float, float]:
        """CPU ms and memory MiB of the web container, from its cgroup (v1: cpuacct and memory)."""
        try:
            cpu = int(Path(f"/sys/fs/cgroup/cpuacct{self.cgroup}/cpuacct.usage").read_text()) / 1e6
            memory = (
                int(Path(f"/sys/fs/cgroup/memory{self.cgroup}/memory.usage_in_bytes").read_text()) / 2**20
            )
        except (OSError, ValueError):
            return float("nan"), float("nan")
        return cpu, memory

    @staticmethod
    def process_cpu_ms(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")

    def sample(self) -> dict[str, float]:
        web_cpu, web_memory = self.web_counters()
        status = self.found.database.sql(
            "SHOW GLOBAL STATUS WHERE Variable_name IN ({})".format(",".join(f"'{v}'" for v in DB_STATUS))
        )
        db = dict(line.split("\t") for line in status.splitlines() if "\t" in line)
        redis = dict(
            line.split(":", 1) for line in self.found.redis("INFO", "all").splitlines() if ":" in line
        )
        return {
            "time": time.time(),
            "web_cpu_ms": web_cpu,
            "web_memory_mib": web_memory,
            "db_cpu_ms": self.process_cpu_ms(self.db_pid),
            "loadgen_cpu_ms": self.process_cpu_ms(self.loadgen_pid) if self.loadgen_pid else float("nan"),
            "redis_cpu_ms": (float(redis["used_cpu_sys"]) + float(redis["used_cpu_user"])) * 1000,
            "redis_clients": float(redis["connected_clients"]),
            "redis_memory_mib": float(redis["used_memory"]) / 2**20,
            "redis_commands": float(redis["total_commands_processed"]),
            **{f"db_{name.lower()}": float(db.get(name, "nan")) for name in DB_STATUS},
        }

    def run(self) -> None:
        while not self.stopping.is_set():
            self.rows.append(self.sample())
            self.stopping.wait(1.0)

    def stop(self) -> list[dict[str, float]]:
        self.stopping.set()
        self.join(timeout=10)
        self.rows.append(self.sample())
        return self.rows


def cpu_share(samples: list[dict[str, float]], counter: str) -> float:
    """Percent of one core a process used between its first and last sample: the load generator's last
    samples come after it exited, so samples without a value are left out."""
    valid = [row for row in samples if not math.isnan(row[counter])]
    if len(valid) < 2:
        return float("nan")
    seconds = valid[-1]["time"] - valid[0]["time"]
    return round((valid[-1][counter] - valid[0][counter]) / max(seconds, 1e-9) / 10, 1)


def check_database(found: Services, quiz: int, since: int, attempts: set[int]) -> dict[str, Any]:
    """Attempts of this run as the database has them: finished or not, and how many questions of each
    hold an answer: saved ("complete") while the attempt is in progress, graded once it is finished (a
    question that ends "todo" or "gave up" has none)."""
    sql = f"""
        SELECT a.id, a.state, COUNT(q.id),
               SUM(CASE WHEN s.state IN ('complete', 'gradedright', 'gradedwrong', 'gradedpartial')
                        THEN 1 ELSE 0 END)
          FROM mdl_quiz_attempts a
          JOIN mdl_question_attempts q ON q.questionusageid = a.uniqueid
          JOIN mdl_question_attempt_steps s ON s.questionattemptid = q.id
               AND s.sequencenumber = (SELECT MAX(l.sequencenumber) FROM mdl_question_attempt_steps l
                                        WHERE l.questionattemptid = q.id)
         WHERE a.quiz = {quiz} AND a.timestart >= {since}
         GROUP BY a.id, a.state"""
    output = found.database.sql(f"USE bench; {sql}")
    rows = [line.split("\t") for line in output.splitlines() if line.strip()]
    in_db = {int(row[0]) for row in rows}
    return {
        "attempts_in_database": len(rows),
        "attempts_finished": sum(1 for row in rows if row[1] == "finished"),
        "questions": sum(int(row[2]) for row in rows),
        "answers_stored": sum(int(row[3]) for row in rows),
        "answers_by_attempt": {int(row[0]): int(row[3]) for row in rows},
        "attempts_seen_by_students_missing": len(attempts - in_db),
    }


@contextmanager
def web_task(image: str, env: dict[str, str], mounts: list[Mount], size: Size) -> Iterator[Container]:
    web = start_web(
        image, env=env, mounts=mounts, timeout=120,
        options=["--cpus", f"{size.vcpu:g}", "--memory", f"{size.memory_mib}m"],
    )  # fmt: skip
    try:
        yield web
    finally:
        web.remove()


def run_size(
    image: str, found: Services, db_pid: int, mounts: list[Mount], exam: dict[str, object], size: Size,
    variant: Variant, first_student: int, out: Path, work: Path,
) -> dict[str, Any]:  # fmt: skip
    """One exam on one task size, taken by students ``first_student`` onwards, whom no other run uses: a
    student with an attempt in progress from an earlier run would resume it instead of starting one. The raw
    files go to ``out``, the figures are returned."""
    students = students_for(size)
    php = pool(size, variant.pool)
    log_dir = make_runtime_dir(work / f"fpm-{size.cpu}")
    env = site_env(found, tls=True) | php.environment()
    web_mounts = [*mounts, (php_fpm_conf(work), PHP_FPM_CONF, "ro"), (log_dir, "/bench-out")]
    run_dir = work / f"run-{size.cpu}"
    loads_before = uptime_loads()
    since = int(time.time())
    with web_task(image, env, web_mounts, size) as web:
        # A new task's first requests fill OPcache: a few, one at a time, before the students arrive.
        for path in ("/login/index.php", "/login/index.php", f"/course/view.php?id={exam['course']}"):
            subprocess.run(["curl", "-s", "-o", "/dev/null", web_url(path)], check=False, timeout=120)
        monitor = Monitor(found, db_pid, web, out)
        steps = schedule()
        command = [
            str(BENCH_VENV / "bin" / "python"), "-m", "tools.exam.students", "--host", web_url(),
            "--exam", str(work / "exam.json"), "--password", STUDENT_PASSWORD, "--students", str(students),
            "--first", str(first_student),
            "--arrival-seconds", str(max(20, students / 8)), "--out", str(run_dir),
            "--steps", ",".join(f"{think:g}:{seconds:g}" for think, seconds in steps),
            "--deadline", "900",
        ]  # fmt: skip
        started = time.monotonic()
        loadgen = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO_ROOT
        )
        monitor.loadgen_pid = loadgen.pid
        monitor.start()
        output, _ = loadgen.communicate(timeout=1200)
        samples = monitor.stop()
        seconds = time.monotonic() - started
        if loadgen.returncode != 0:
            raise RuntimeError(f"the load generator failed:\n{output[-4000:]}")
        peak_memory = (
            Path(f"/sys/fs/cgroup/memory{monitor.cgroup}/memory.max_usage_in_bytes").read_text().strip()
        )
    loads_after = uptime_loads()

    requests = analysis.read_requests(run_dir / "requests.csv")
    shutil.copy(run_dir / "requests.csv", out / f"requests-{slug(variant.label)}-{size.cpu}.csv")
    with (out / f"monitor-{slug(variant.label)}-{size.cpu}.csv").open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(samples[0]))
        writer.writeheader()
        writer.writerows(samples)
    result = json.loads((run_dir / "students.json").read_text())
    attempts = {int(s["attempt"]) for s in result["students"] if s["attempt"]}
    database = check_database(found, int(str(exam["quiz"])), since, attempts)
    answers_confirmed = sum(int(s["answers"]) for s in result["students"])
    arrived = int(result["arrived"])
    start = analysis.sync_start(requests, arrived)
    found_steps = analysis.steps(requests, steps, arrived, float(result["schedule_origin"] or 0.0))
    access_log = (log_dir / "php-fpm-access.log").read_text().splitlines()
    costs = analysis.cpu_per_request_type(access_log)
    figures = [
        analysis.step_figures(step, samples, float(result["start_epoch"]), size.vcpu, os.cpu_count() or 1)
        for step in found_steps
    ]
    first, last = samples[0], samples[-1]
    return {
        "size": asdict(size) | {"label": size.label, "vcpu": size.vcpu},
        "php_fpm": asdict(php),
        "students": students,
        "first_student": first_student,
        "arrived": result["arrived"],
        "start_epoch": result["start_epoch"],
        "timed_out": result["timed_out"],
        "seconds": round(seconds, 1),
        "load_average_before": loads_before,
        "load_average_after": loads_after,
        "sync_start": asdict(start)
        | {
            "db_cpu_ms_per_student": analysis.cpu_ms_per_start(
                samples, result["start_epoch"], start, "db_cpu_ms"
            )
        },
        "steps": figures,
        "host_limited": analysis.host_limited(figures),
        "capacity_equivalent_students": analysis.capacity(found_steps),
        "cpu_per_request": [asdict(cost) for cost in costs],
        "answers_confirmed_to_students": answers_confirmed,
        "database": database,
        # Answers Moodle confirmed to a student (the next page came back) that its attempt does not hold.
        "lost_answers": sum(
            max(0, int(s["answers"]) - database["answers_by_attempt"].get(int(s["attempt"]), 0))
            for s in result["students"]
            if s["attempt"]
        ),
        "unfinished_attempts": len(attempts) - database["attempts_finished"],
        "errors": sum(1 for request in requests if request.error),
        "peak_web_memory_mib": round(int(peak_memory) / 2**20),
        "cpu_share_of_run": {
            name: cpu_share(samples, f"{name}_cpu_ms") for name in ("web", "db", "redis", "loadgen")
        },
        "db_max_threads_connected": max(row["db_threads_connected"] for row in samples),
        "db_max_threads_running": max(row["db_threads_running"] for row in samples),
        "db_row_lock_waits": last["db_innodb_row_lock_waits"] - first["db_innodb_row_lock_waits"],
        "db_row_lock_time_ms": last["db_innodb_row_lock_time"] - first["db_innodb_row_lock_time"],
        "db_queries": last["db_questions"] - first["db_questions"],
        "redis_max_clients": max(row["redis_clients"] for row in samples),
        "redis_max_memory_mib": round(max(row["redis_memory_mib"] for row in samples), 1),
        "redis_commands": last["redis_commands"] - first["redis_commands"],
        # Per request the students made (a page with its redirect counts once), over the whole run.
        "per_request": {
            "requests": len(requests),
            "web_cpu_ms": round((last["web_cpu_ms"] - first["web_cpu_ms"]) / max(len(requests), 1), 1),
            "db_cpu_ms": round((last["db_cpu_ms"] - first["db_cpu_ms"]) / max(len(requests), 1), 2),
            "db_queries": round((last["db_questions"] - first["db_questions"]) / max(len(requests), 1), 1),
            "redis_commands": round(
                (last["redis_commands"] - first["redis_commands"]) / max(len(requests), 1), 1
            ),
        },
    }


def mysqld_pid(database: MySQL) -> int:
    """The host's pid of the MySQL container's server process, whose CPU time the monitor samples."""
    pending = [int(database.container.state("Pid"))]
    while pending:
        pid = pending.pop()
        if Path(f"/proc/{pid}/comm").read_text().strip() == "mysqld":
            return pid
        for task in Path(f"/proc/{pid}/task").iterdir():
            pending.extend(int(child) for child in (task / "children").read_text().split())
    raise RuntimeError("no mysqld process in the MySQL container")


def main() -> int:
    source = moodle_tree("bench-exam", ("podman", "mmdebstrap", "redis-server", "openssl", "curl"))
    out = Path(setting("BENCH_EXAM_OUT", str(REPO_ROOT / "docs" / "capacity")))
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with bench_site(source, "moodle-exam-") as (image, found, work):
        db_pid = mysqld_pid(found.database)
        mounts = configure(image, found, make_runtime_dir(work / "moodledata"), tls=True)
        every = [size for variant in variants() for size in variant.sizes]
        total = sum(map(students_for, every))
        exam = make_exam(image, found, mounts, total)
        (work / "exam.json").write_text(json.dumps(exam))
        print(f"exam with {total} students ready after {time.monotonic() - started:.0f} s", flush=True)
        runs: list[dict[str, Any]] = []
        first = 1
        for variant in variants():
            done = []
            for size in variant.sizes:
                # A failing size ends the measurement; the sizes measured so far are kept.
                try:
                    run = run_size(image, found, db_pid, mounts, exam, size, variant, first, out, work)
                except Exception:
                    traceback.print_exc()
                    break
                finally:
                    first += students_for(size)
                done.append(run)
                save(out, variant.label, done)
                print(json.dumps(run, default=str), flush=True)
            runs += done
    if not runs:
        return 1
    subprocess.run(
        [str(BENCH_VENV / "bin" / "python"), "-m", "tools.exam.plots", str(out)],
        check=True,
        cwd=REPO_ROOT,
    )
    print(f"total {time.monotonic() - started:.0f} s; results in {out}")
    failed = [
        run
        for run in runs
        if run["lost_answers"]
        or run["unfinished_attempts"]
        or run["database"]["attempts_seen_by_students_missing"]
    ]
    if failed:
        print(f"LOST ATTEMPTS OR ANSWERS in {len(failed)} run(s)", file=sys.stderr)
    return 1 if failed or len(runs) < len(every) else 0


def save(out: Path, name: str, runs: list[dict[str, Any]]) -> None:
    """One variant's runs into results.json, beside the other variants' (the before and after figures)."""
    results = out / "results.json"
    previous = json.loads(results.read_text()) if results.exists() else {}
    previous[name] = {
        "runs": runs,
        "machine": machine(),
        "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "moodle": os.environ.get("MOODLE_SRC", ""),
    }
    results.write_text(json.dumps(previous, indent=1, default=str) + "\n")


def machine() -> dict[str, object]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), "unknown",
    )  # fmt: skip
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1),
    }


if __name__ == "__main__":
    sys.exit(main())
