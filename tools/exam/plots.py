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


def main() -> int:
    out = Path(sys.argv[1])
    results = json.loads((out / "results.json").read_text())
    latency(results, out)
    drain(results, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
