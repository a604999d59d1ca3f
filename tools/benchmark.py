"""Measure what the README promises: full-synthesis wall time and peak memory, test-suite time.

Run with ``make bench`` once dependencies are installed (warm); numbers go to the issue notes.
"""

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(command: list[str], *, runs: int) -> tuple[float, float]:
    """Best wall time of ``runs`` runs, and the peak resident memory of the largest child so far in MB."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=os.environ | {"CI": "true"}
        )
        best = min(best, time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return best, peak_mb


def main() -> int:
    python = str(ROOT / ".venv" / "bin" / "python")
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("CDK_VALIDATION", "false")
    shutil.rmtree(ROOT / "cdk.out", ignore_errors=True)
    synth, synth_peak = timed(
        [str(ROOT / "node_modules/.bin/cdk"), "synth", "--quiet", "--no-notices", "--no-lookups"], runs=3
    )
    print(
        f"full synth, cdk-nag included (cdk synth, best of 3): {synth:.1f} s wall, "
        f"largest process {synth_peak:.0f} MB"
    )
    gate, _ = timed(["make", "--no-print-directory", "synth"], runs=1)
    print(f"make synth (synth + cfn-lint + checkov + report):    {gate:.1f} s wall")
    tests, _ = timed([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], runs=1)
    print(f"whole test suite (pytest):                           {tests:.1f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
