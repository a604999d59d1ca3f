"""Pictures and tables of ``make bench-exam`` (docs/CAPACITY.md), from the results.json and raw CSV files it
wrote: latency percentiles against students, the drain of the synchronized start, and report.md. Runs in
.venv-bench (matplotlib)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from tools.exam import analysis


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def latency(results: dict[str, Any], out: Path) -> None:
    figure, axes = plt.subplots(figsize=(9, 5.5))
    for label, result in results.items():
        for run in result["runs"]:
            vcpu = run["size"]["vcpu"]
            x = [step["equivalent_students"] / vcpu for step in run["steps"]]
            name = f"{run['size']['label']}, {label}"
            (line,) = axes.plot(x, [step["p95_ms"] for step in run["steps"]], marker="o", label=f"p95 {name}")
            axes.plot(x, [step["p50_ms"] for step in run["steps"]], linestyle=":", color=line.get_color())
            axes.plot(x, [step["p99_ms"] for step in run["steps"]], linestyle="--", color=line.get_color())
    axes.axhline(analysis.P95_LIMIT_MS, color="red", linewidth=1, label="1.5 s")
    axes.axvline(250, color="grey", linewidth=1, linestyle="-.", label="goal: 250 students per vCPU")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("simultaneous students per web vCPU (at the anchor's 30-90 s think time)")
    axes.set_ylabel("quiz page latency, ms (p95 solid, p50 dotted, p99 dashed)")
    axes.set_title("Quiz pages: latency against students")
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / "latency.png", dpi=110)


def drain(results: dict[str, Any], out: Path) -> None:
    figure, axes = plt.subplots(figsize=(9, 5.5))
    for label, result in results.items():
        for run in result["runs"]:
            path = out / f"requests-{slug(label)}-{run['size']['cpu']}.csv"
            curve = analysis.drain_curve(analysis.read_requests(path))
            axes.step(
                [point[0] for point in curve],
                [point[1] for point in curve],
                where="post",
                label=f"{run['size']['label']}, {run['students']} students, {label}",
            )
    axes.axvline(30, color="red", linewidth=1, label="30 s")
    axes.set_xlabel("seconds since every student pressed 'Attempt quiz'")
    axes.set_ylabel("attempts started (first page shown)")
    axes.set_title("Synchronized start: how fast it drains")
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / "drain.png", dpi=110)


def _ms(value: float) -> str:
    return "-" if value != value else f"{value:.0f}"


def report(results: dict[str, Any], out: Path) -> None:
    """report.md: every figure of results.json as tables a person reads."""
    lines = ["# Exam bench results", "", "Written by `make bench-exam` (docs/CAPACITY.md explains them).", ""]
    for label, result in results.items():
        machine = result["machine"]
        lines += [
            f"## {label}",
            "",
            f"Finished {result['finished']} on {machine['cpus']} CPUs ({machine['cpu_model']}), "
            f"{machine['memory_gib']} GiB; Moodle tree {result['moodle']}.",
            "",
            "| task | workers | students | capacity (students per vCPU, p95 <= 1.5 s, 0 errors) | start: "
            "drain s / p95 ms / errors | lost answers / unfinished | errors | load avg before -> after | "
            "host-limited |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for run in result["runs"]:
            start = run["sync_start"]
            lines.append(
                f"| {run['size']['label']} | {run['php_fpm']['max_children']} | {run['students']} | "
                f"{run['capacity_equivalent_students'] / run['size']['vcpu']:.0f} | "
                f"{start['drain_seconds']:.1f} / {_ms(start['p95_ms'])} / {start['errors']} | "
                f"{run['lost_answers']} / {run['unfinished_attempts']} | {run['errors']} | "
                f"{run['load_average_before'][0]} -> {run['load_average_after'][0]} | "
                f"{'yes' if run.get('host_limited') else 'no'} |"
            )
        lines += ["", "Steps (think time, anchor-equivalent students per vCPU, quiz pages, p50/p95/p99 ms, "
                  "errors, web CPU % of its limit, host CPU % of all its cores):", ""]  # fmt: skip
        lines += ["| task | think s | students per vCPU | pages | p50 | p95 | p99 | errors | web CPU % | "
                  "host CPU % |", "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for run in result["runs"]:
            for step in run["steps"]:
                lines.append(
                    f"| {run['size']['label']} | {step['think_seconds']:g} | "
                    f"{step['equivalent_students'] / run['size']['vcpu']:.0f} | {step['pages']} | "
                    f"{_ms(step['p50_ms'])} | {_ms(step['p95_ms'])} | {_ms(step['p99_ms'])} | "
                    f"{step['errors']} | {step['web_cpu_percent']} | {step.get('host_cpu_percent', '-')} |"
                )
        lines += ["", "CPU per request type (php-fpm's accounting):", "",
                  "| task | request | count | CPU ms mean | CPU ms p95 | wall ms mean | peak PHP memory KB |",
                  "|---|---|---|---|---|---|---|"]  # fmt: skip
        for run in result["runs"]:
            for cost in run["cpu_per_request"]:
                lines.append(
                    f"| {run['size']['label']} | {cost['request_type']} | {cost['count']} | "
                    f"{cost['cpu_ms_mean']:.0f} | {cost['cpu_ms_p95']:.0f} | {cost['wall_ms_mean']:.0f} | "
                    f"{cost['peak_memory_kb_max']} |"
                )
        lines += ["", "Where the CPU went (% of one core over the run), the database and Redis:", "",
                  "| task | web | database | Redis | load generator | DB max connections / running | "
                  "row-lock waits / ms | DB queries per request | Redis max clients / MiB | "
                  "Redis commands per request |",
                  "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for run in result["runs"]:
            share = run["cpu_share_of_run"]
            lines.append(
                f"| {run['size']['label']} | {share['web']} | {share['db']} | {share['redis']} | "
                f"{share['loadgen']} | {run['db_max_threads_connected']:.0f} / "
                f"{run['db_max_threads_running']:.0f} | "
                f"{run['db_row_lock_waits']:.0f} / {run['db_row_lock_time_ms']:.0f} | "
                f"{run['per_request']['db_queries']} | {run['redis_max_clients']:.0f} / "
                f"{run['redis_max_memory_mib']} | {run['per_request']['redis_commands']} |"
            )
        lines.append("")
    (out / "report.md").write_text("\n".join(lines))


def main() -> int:
    out = Path(sys.argv[1])
    results = json.loads((out / "results.json").read_text())
    latency(results, out)
    drain(results, out)
    report(results, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
