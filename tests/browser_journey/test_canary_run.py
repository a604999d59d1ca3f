"""``python -m journey.canary_run``: the pipeline's wait for the canary's first run after a deploy."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from journey import canary_run

ROLE = "arn:aws:iam::444444444444:role/moodle-prod-journey-runner"
NOW = datetime.datetime.now(datetime.UTC)


def _run(run_id: str, state: str, minutes: float, reason: str = "") -> dict[str, Any]:
    started = (NOW + datetime.timedelta(minutes=minutes)).isoformat()
    return {
        "Id": run_id,
        "Status": {"State": state, "StateReason": reason},
        "Timeline": {"Started": started},
        "ArtifactS3Location": f"bucket/runs/{run_id}",
    }


class FakeAws:
    """The AWS CLI: assume-role answers credentials, get-canary-runs the given runs."""

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self.runs = runs
        self.calls: list[tuple[str, list[str]]] = []

    def __call__(self, environ: Mapping[str, str]) -> canary_run.Aws:
        def run(arguments: Sequence[str]) -> Any:
            self.calls.append((environ.get("AWS_SESSION_TOKEN", ""), list(arguments)))
            if arguments[:2] == ["sts", "assume-role"]:
                return {"Credentials": {"AccessKeyId": "a", "SecretAccessKey": "s", "SessionToken": "t"}}
            return {"CanaryRuns": self.runs}

        return run


def test_a_passed_run_after_the_deploy_passes(capsys: pytest.CaptureFixture[str]) -> None:
    aws = FakeAws([_run("old", "FAILED", -10), _run("new", "PASSED", 1)])

    status = canary_run.main(["--canary", "moodle-prod-journey", "--role-arn", ROLE], {}, aws)

    assert status == canary_run.EXIT_PASSED
    assert aws.calls[0] == (
        "",
        ["sts", "assume-role", "--role-arn", ROLE, "--role-session-name", "pipeline-journey"],
    )
    assert aws.calls[1][0] == "t", "the runs are read with the runner role's credentials"
    output = capsys.readouterr().out
    assert "PASS run new of moodle-prod-journey: PASSED" in output
    assert "s3://bucket/runs/new" in output


def test_a_failed_run_after_the_deploy_fails_with_its_reason(capsys: pytest.CaptureFixture[str]) -> None:
    aws = FakeAws(
        [_run("old", "PASSED", -5), _run("new", "FAILED", 2, "log_in: no element '#user-menu-toggle'")]
    )

    status = canary_run.main(
        [], {"JOURNEY_CANARY": "moodle-prod-journey", "JOURNEY_RUNNER_ROLE_ARN": ROLE}, aws
    )

    assert status == canary_run.EXIT_FAILED
    assert "FAIL run new of moodle-prod-journey: FAILED log_in: no element" in capsys.readouterr().out


def test_the_first_finished_run_since_the_deploy_counts() -> None:
    runs = [
        _run("before", "PASSED", -1),
        _run("running", "RUNNING", 0.5),
        _run("second", "PASSED", 6),
        _run("first", "FAILED", 1),
    ]

    first = canary_run.first_finished_run_since(runs, NOW)
    assert first is not None and first["Id"] == "first"
    assert canary_run.first_finished_run_since(runs[:2], NOW) is None


def test_epoch_timestamps_are_read_too() -> None:
    assert canary_run.started_at({"Timeline": {"Started": 0}}) == datetime.datetime(
        1970, 1, 1, tzinfo=datetime.UTC
    )


def test_no_run_in_time_fails() -> None:
    clock = iter(range(0, 10_000, 15))
    slept: list[float] = []

    run = canary_run.wait_for_run(
        FakeAws([_run("old", "PASSED", -1)])({}),
        canary="moodle-prod-journey",
        since=NOW,
        timeout=60,
        log=lambda line: None,
        clock=lambda: float(next(clock)),
        sleep=slept.append,
    )

    assert run is None
    assert slept == [canary_run.POLL_SECONDS] * 3, "polled at 15, 30, 45 and 60 s, then gave up"


def test_without_canary_or_role_it_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exited:
        canary_run.main(["--canary", "moodle-prod-journey"], {}, FakeAws([]))
    assert exited.value.code == canary_run.EXIT_USAGE
