"""``python -m journey.canary_run``: after a deploy, wait for the environment's browser canary to run
(its first run that starts after this command) and exit 0 when it passed, 1 when it failed or did not
run in time, 2 on usage errors. The pipeline's post-deploy step runs it after the smoke tests.

Standard library and the AWS CLI only (CodeBuild's image has both): it assumes the environment's
runner role, which may read the canary's runs and nothing else (moodle_infra/browser_canary).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
POLL_SECONDS = 15.0
FINISHED = ("PASSED", "FAILED")

Aws = Callable[[Sequence[str]], Any]
"""Runs ``aws <arguments> --output json`` and returns the parsed answer."""


class AwsCliError(RuntimeError):
    """The AWS CLI failed: its message is the CLI's."""


def aws_cli(environ: Mapping[str, str]) -> Aws:
    def run(arguments: Sequence[str]) -> Any:
        result = subprocess.run(
            ["aws", *arguments, "--output", "json"],
            capture_output=True,
            text=True,
            env=dict(environ),
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise AwsCliError(f"aws {' '.join(arguments[:2])}: {result.stderr.strip()}")
        return json.loads(result.stdout or "null")

    return run


def assumed(aws: Aws, role_arn: str, environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with the runner role's temporary credentials."""
    answer = aws(["sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "pipeline-journey"])
    credentials = answer["Credentials"]
    return {
        **environ,
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


def started_at(run: Mapping[str, Any]) -> datetime.datetime | None:
    """When a run started: the CLI prints ISO 8601 (or epoch seconds with another timestamp format)."""
    value = (run.get("Timeline") or {}).get("Started")
    if isinstance(value, int | float):
        return datetime.datetime.fromtimestamp(value, datetime.UTC)
    if isinstance(value, str):
        return datetime.datetime.fromisoformat(value)
    return None


def first_finished_run_since(runs: Sequence[Mapping[str, Any]], since: datetime.datetime) -> Any | None:
    """The earliest run that started at or after ``since`` and has finished; None while there is none."""
    finished = [
        (start, run)
        for run in runs
        if (start := started_at(run)) is not None
        and start >= since
        and (run.get("Status") or {}).get("State") in FINISHED
    ]
    return min(finished, key=lambda pair: pair[0])[1] if finished else None


def wait_for_run(
    aws: Aws,
    *,
    canary: str,
    since: datetime.datetime,
    timeout: float,
    log: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Any | None:
    """The canary's first finished run since ``since``, polled every POLL_SECONDS; None after ``timeout``."""
    deadline = clock() + timeout
    while True:
        answer = aws(["synthetics", "get-canary-runs", "--name", canary, "--max-results", "10"])
        run = first_finished_run_since(answer.get("CanaryRuns") or [], since)
        if run is not None:
            return run
        if clock() >= deadline:
            return None
        log(
            f"journey: waiting for a run of {canary} that started after {since.isoformat(timespec='seconds')}"
        )
        sleep(POLL_SECONDS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m journey.canary_run",
        description="Wait for the browser canary's next run after a deploy; fail when it fails.",
    )
    parser.add_argument("--canary", help="canary name (the Application stack's CanaryName) [JOURNEY_CANARY]")
    parser.add_argument("--role-arn", help="role to assume to read its runs [JOURNEY_RUNNER_ROLE_ARN]")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait (default 900)")
    return parser


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    aws_with: Callable[[Mapping[str, str]], Aws] = aws_cli,
) -> int:
    """``aws_with(environment)`` runs the AWS CLI with that environment (tests give a fake one)."""
    environ = os.environ if environ is None else environ
    parser = build_parser()
    args = parser.parse_args(argv)
    canary = args.canary or environ.get("JOURNEY_CANARY")
    role_arn = args.role_arn or environ.get("JOURNEY_RUNNER_ROLE_ARN")
    if not canary or not role_arn:
        parser.error("the canary's name and the runner role are needed: --canary, --role-arn")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    since = datetime.datetime.now(datetime.UTC)
    try:
        runner = aws_with(assumed(aws_with(environ), role_arn, environ))
        run = wait_for_run(runner, canary=canary, since=since, timeout=args.timeout)
    except AwsCliError as error:
        print(f"journey: FAIL {error}")
        return EXIT_FAILED
    if run is None:
        print(f"journey: FAIL no run of {canary} finished within {args.timeout:g}s (is the canary running?)")
        return EXIT_FAILED
    status = run.get("Status") or {}
    where = (run.get("ArtifactS3Location") or "").strip()
    print(
        f"journey: {'PASS' if status.get('State') == 'PASSED' else 'FAIL'} run {run.get('Id')} of {canary}: "
        f"{status.get('State')} {status.get('StateReason') or ''}".rstrip()
    )
    if where:
        print(f"journey: screenshots and logs of this run: s3://{where.removeprefix('s3://')}")
    return EXIT_PASSED if status.get("State") == "PASSED" else EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
