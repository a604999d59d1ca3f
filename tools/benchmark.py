"""Measure what the README promises: full-synthesis wall time and peak memory, test-suite time, and the
Moodle image: build time cold and with the layer cache, size, start to healthy.

Run with ``make bench`` once dependencies are installed (warm); numbers go to the issue notes.
"""

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
    share, stages = install_or_upgrade_share(runs=3)
    print(
        f"InstallOrUpgrade in one synthesis (construction + naming its wait condition, best of 3): "
        f"{share / stages:.2f} s per stage ({stages} stages)"
    )
    gate, _ = timed(["make", "--no-print-directory", "synth"], runs=1)
    print(f"make synth (synth + cfn-lint + checkov + report):    {gate:.1f} s wall")
    tests, _ = timed([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], runs=1)
    print(f"whole test suite (pytest):                           {tests:.1f} s wall")
    if shutil.which("podman") and shutil.which("mmdebstrap"):
        container_benchmark()
    else:
        print("image: skipped (needs podman and mmdebstrap, see docs/IMAGE.md)")
    return 0


def install_or_upgrade_share(*, runs: int) -> tuple[float, int]:
    """Seconds of an in-process synthesis of the shipped app spent in InstallOrUpgrade: building it, and
    the aspect that names its wait condition after the run (rollout_gate.run_digest); and the number of
    stages that hold one. Best of ``runs``."""
    from aws_cdk import App

    from app import build_app
    from moodle_infra.install_upgrade import construct, rollout_gate
    from tests.synthesis import cdk_context

    spent: list[float] = []
    calls: list[int] = []

    def timing(function: Any) -> Any:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[-1] += time.perf_counter() - started
                calls[-1] += function is original_init

        return timed_call

    original_init, original_digest = construct.InstallOrUpgrade.__init__, rollout_gate.run_digest
    best = float("inf")
    try:
        construct.InstallOrUpgrade.__init__ = timing(original_init)  # type: ignore[method-assign]
        rollout_gate.run_digest = timing(original_digest)
        for _ in range(runs):
            spent.append(0.0)
            calls.append(0)
            with tempfile.TemporaryDirectory(prefix="bench-synth-") as outdir:
                build_app(App(context=cdk_context(), outdir=outdir)).synth()
            best = min(best, spent[-1])
    finally:
        construct.InstallOrUpgrade.__init__ = original_init  # type: ignore[method-assign]
        rollout_gate.run_digest = original_digest
    return best, calls[-1]


def container_benchmark() -> None:
    """The image built from image/Dockerfile with a fake release, as tests/image builds it."""
    from tests.image import container
    from tests.image.conftest import make_fake_release
    from tests.image.image_testlib import make_runtime_dir, moodle_env
    from tests.image.mysql_server import ensure_mysql_image, running_mysql

    work = Path(tempfile.mkdtemp(prefix="moodle-bench-"))
    work.chmod(0o755)
    try:
        started = time.perf_counter()
        subprocess.run(
            ["mmdebstrap", "--variant=minbase", "--quiet", container.DEBIAN_RELEASE, str(work / "base.tar")],
            stdin=subprocess.DEVNULL, capture_output=True, check=True,
        )  # fmt: skip
        container.podman(
            "import", "--quiet", str(work / "base.tar"), "localhost/moodle-bench:base", timeout=300
        )
        print(f"image: base image with mmdebstrap + import:           {time.perf_counter() - started:.1f} s")
        container.podman("rmi", "localhost/moodle-bench:base")
        (work / "base.tar").unlink()
        release = container.pack_release(
            make_fake_release(work / "tree", public_layout=True), work / "release.tgz", version="5.1.6"
        )
        with container.loopback_file_server(work) as url:
            cold = container.build_image(
                tag="localhost/moodle-bench:cold", release_url=f"{url}/release.tgz", release=release,
                extra_options=["--no-cache"],
            )  # fmt: skip
            (work / "tree" / "version.php").write_text("<?php // another release\n")
            other = container.pack_release(work / "tree", work / "other.tgz", version="5.1.6")
            warm = container.build_image(
                tag="localhost/moodle-bench:warm", release_url=f"{url}/other.tgz", release=other
            )
        for build in (cold, warm):
            assert build.result.returncode == 0, build.output[-3000:]
        print(f"image: build, no layer cache:                         {cold.seconds:.1f} s")
        print(f"image: build, layer cache warm, another release:      {warm.seconds:.1f} s")
        size = int(container.inspect_image(warm.tag, "{{.Size}}"))
        print(f"image: size (fake release):                           {size / 1e6:.0f} MB")
        mounts: list[container.Mount] = [(make_runtime_dir(work / "moodledata"), "/var/www/moodledata")]
        ensure_mysql_image()
        started = time.perf_counter()
        with running_mysql() as mysql:
            ready = time.perf_counter() - started
            print(f"image: the tests' MySQL, container start to ready:    {ready:.1f} s")
            mysql.sql("CREATE DATABASE bench")
            env = moodle_env(
                MOODLE_DB_PORT=str(mysql.port), MOODLE_DB_NAME="bench", FAKE_MOODLE_LOG="/dev/null"
            )
            installed = container.run_container(warm.tag, "install-or-upgrade", env=env, mounts=mounts)
            assert installed.returncode == 0, installed.stderr
            web = container.start_web(warm.tag, env=env, mounts=mounts)
            print(f"image: web, start to healthy:                         {web.seconds_to_healthy:.1f} s")
            web.remove()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
