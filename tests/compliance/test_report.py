"""compliance.report on a small assembly: what reviewers read, and what fails the gate."""

from pathlib import Path

import pytest

from compliance.assembly import read_assembly
from compliance.gate import declared_skips
from compliance.nag_rules import pack_rules
from compliance.report import GateResult, render
from compliance.tools import CheckResult, LintMatch, ToolResults
from tests.compliance.assembly_fixture import ACK_REASON, SKIP_REASON, STACK_PATH, TEMPLATE, write_assembly


@pytest.fixture
def assembly_dir(tmp_path: Path) -> Path:
    return write_assembly(tmp_path / "cdk.out")


def _tools(**overrides: object) -> ToolResults:
    tools = ToolResults(
        cfn_lint_version="1.58.0",
        checkov_version="3.3.30",
        passed=40,
        skipped=[
            CheckResult(
                "CKV_AWS_18",
                "Ensure the S3 bucket has access logging enabled",
                TEMPLATE,
                "AWS::S3::Bucket.Logs",
                SKIP_REASON,
            ),
            CheckResult("CKV_AWS_115", "Lambda concurrency", TEMPLATE, "AWS::S3::Bucket.Logs", "Stale"),
        ],
    )
    for name, value in overrides.items():
        setattr(tools, name, value)
    return tools


def _result(assembly_dir: Path, tools: ToolResults) -> GateResult:
    assembly = read_assembly(assembly_dir)
    return GateResult(
        assembly=assembly,
        rules=pack_rules(),
        tools=tools,
        declared_skips=list(declared_skips(assembly)),
        templates=[TEMPLATE],
    )


def test_the_assembly_is_read_with_its_stacks_resources_and_acknowledgments(assembly_dir: Path) -> None:
    assembly = read_assembly(assembly_dir)
    (stack,) = assembly.stacks
    assert (stack.path, stack.stage, stack.name, stack.environment) == (
        STACK_PATH,
        "Dev",
        "Data",
        "222222222222/eu-west-1",
    )
    assert len(stack.resources) == 3
    assert {(ack.path, ack.rule_id) for ack in stack.acknowledgments} == {
        (f"{STACK_PATH}/Database", "AwsSolutions-RDS3"),
        (f"{STACK_PATH}/Database", "NIST.800.53.R5-RDSMultiAZSupport"),
    }
    assert assembly.findings == []


def test_a_clean_gate_reports_every_acknowledgment_rule_and_skip_with_its_reason(assembly_dir: Path) -> None:
    result = _result(assembly_dir, _tools())
    assert result.passed, result.problems
    report = render(result)
    assert "**PASSED**" in report
    assert f"| Data | `Database` | `AwsSolutions-RDS3` | ERROR | {ACK_REASON} |" in report
    assert "| `AwsSolutions-RDS3` | 1 | Dev |" in report, "acknowledgments by rule"
    # per stack: rules applied (RDS and S3 rules only) and acknowledged, per pack
    row = next(line for line in report.splitlines() if line.startswith("| Dev | Data |"))
    applied_aws, applied_nist = (int(cell.split("/")[0]) for cell in row.split("|")[5:7])
    assert 0 < applied_aws < len(pack_rules()["AwsSolutions"]) and 0 < applied_nist < len(
        pack_rules()["NIST.800.53.R5"]
    )
    assert row.endswith(" / 1 | 0 |")
    assert "`AwsSolutions-S1`" in report and "`AwsSolutions-RDS3`" in report
    assert SKIP_REASON in report and "`CKV_AWS_18`" in report
    assert "## Rule catalogue" in report


def test_findings_failures_and_stale_skips_fail_the_gate(assembly_dir: Path) -> None:
    (assembly_dir / "validation-report.json").write_text(
        '{"pluginReports": [{"pluginName": "AwsSolutions", "violations": [{"ruleName": "AwsSolutions-S1", '
        '"severity": "error", "description": "no access logs", '
        f'"violatingConstructs": [{{"constructPath": "{STACK_PATH}/Plain/Resource"}}]}}]}}]}}'
    )
    tools = _tools(
        skipped=_tools().skipped[:1],
        failed=[CheckResult("CKV_AWS_21", "versioning", TEMPLATE, "AWS::S3::Bucket.Plain")],
        lint_matches=[
            LintMatch("E3002", "Error", "Additional properties are not allowed", TEMPLATE, "Resources/Plain")
        ],
    )
    result = _result(assembly_dir, tools)
    problems = "\n".join(result.problems)
    assert not result.passed
    assert f"cdk-nag: AwsSolutions-S1 (error) on {STACK_PATH}/Plain/Resource" in problems
    assert "cfn-lint: E3002" in problems
    assert "checkov: CKV_AWS_21 failed on AWS::S3::Bucket.Plain" in problems
    assert "stale skip of CKV_AWS_115 on AWS::S3::Bucket.Logs" in problems
    report = render(result)
    assert "**FAILED**: 4 unresolved problems." in report
    row = next(line for line in report.splitlines() if line.startswith("| Dev | Data |"))
    assert row.endswith("| 1 |"), "the unacknowledged finding is counted on its stack"
