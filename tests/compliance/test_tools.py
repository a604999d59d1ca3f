"""Negative control of cfn-lint and checkov: the gate lints a planted bad template (the canary) with
every run and fails unless both tools catch it. ``make synth`` and ``make test`` run the real tools
(with the canary) on the real templates; these tests check the canary's evaluation and the gate's
results on a small assembly, without starting the tools again."""

from pathlib import Path

import pytest

from compliance import canary
from compliance.gate import run_gate
from compliance.tools import CheckResult, LintMatch, ToolResults
from tests.compliance.assembly_fixture import TEMPLATE, write_assembly

CANARY = f"../tmp/{canary.FILE_NAME}"


def _canary_caught() -> ToolResults:
    return ToolResults(
        lint_matches=[
            LintMatch(canary.EXPECTED_LINT, "Error", "Additional properties", CANARY, "Resources/Canary"),
            LintMatch("E3002", "Error", "Additional properties", TEMPLATE, "Resources/Plain"),
        ],
        failed=[
            CheckResult(canary.EXPECTED_FAILURE, "logging", CANARY, "AWS::S3::Bucket.CanaryBucket"),
            CheckResult("CKV_AWS_21", "versioning", TEMPLATE, "AWS::S3::Bucket.Plain"),
        ],
        skipped=[
            CheckResult(
                canary.EXPECTED_SKIP,
                "versioning",
                CANARY,
                "AWS::S3::Bucket.CanaryBucket",
                canary.SKIP_COMMENT,
            )
        ],
    )


def test_a_caught_canary_is_taken_out_of_the_results() -> None:
    results = _canary_caught()
    assert canary.take_canary_results(results) == []
    assert [match.template for match in results.lint_matches] == [TEMPLATE]
    assert [check.template for check in results.failed] == [TEMPLATE]
    assert results.skipped == []


@pytest.mark.parametrize(
    ("drop", "missed"),
    [
        ("lint_matches", "cfn-lint did not report E3002"),
        ("failed", "checkov did not fail CKV_AWS_18"),
        ("skipped", "checkov did not honour the canary's skip"),
    ],
)
def test_a_tool_that_misses_the_canary_fails_the_gate(drop: str, missed: str) -> None:
    results = _canary_caught()
    setattr(results, drop, [item for item in getattr(results, drop) if canary.FILE_NAME not in item.template])
    assert any(missed in problem for problem in canary.take_canary_results(results))


def test_the_gate_fails_when_a_tool_cannot_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = write_assembly(tmp_path / "cdk.out")
    monkeypatch.setattr("compliance.tools.CHECKOV", tmp_path / "no-checkov")
    monkeypatch.setattr("compliance.tools.CFN_LINT", tmp_path / "no-cfn-lint")
    result = run_gate(directory)
    assert not result.passed
    assert any("checkov is not installed" in problem for problem in result.problems)
    assert any("cfn-lint is not installed" in problem for problem in result.problems)
    assert any("negative control: cfn-lint" in problem for problem in result.problems)
