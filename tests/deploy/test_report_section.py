"""The compliance report's deploy-time section, and the gate failing on a violation."""

from pathlib import Path

from compliance.assembly import read_assembly
from compliance.deploy_rules import RULES, Violation
from compliance.nag_rules import pack_rules
from compliance.report import GateResult, render
from compliance.tools import ToolResults
from tests.compliance.assembly_fixture import TEMPLATE, write_assembly


def _result(tmp_path: Path, violations: dict[str, list[Violation]]) -> GateResult:
    assembly = read_assembly(write_assembly(tmp_path / "cdk.out"))
    return GateResult(
        assembly=assembly,
        rules=pack_rules(),
        tools=ToolResults(cfn_lint_version="1", checkov_version="3", passed=1),
        templates=[TEMPLATE],
        deploy_violations=violations,
    )


def test_a_violation_fails_the_gate_and_is_listed(tmp_path: Path) -> None:
    violation = Violation("Dev/Audit", "Trail", "the key policy does not let cloudtrail.amazonaws.com use it")
    result = _result(tmp_path, {rule.rule_id: [] for rule in RULES} | {"service-key-policies": [violation]})
    assert not result.passed
    assert f"deploy rule service-key-policies: {violation}" in result.problems
    report = render(result)
    assert (
        f"| deploy-time rules | {len(RULES)} rules over all 1 templates together | "
        "1 violations (1 rules failed) |" in report
    )
    assert f"- {violation}" in report


def test_every_rule_is_described_with_its_documentation(tmp_path: Path) -> None:
    result = _result(tmp_path, {rule.rule_id: [] for rule in RULES})
    assert result.passed
    report = render(result)
    section = report.split("## Deploy-time rules", 1)[1]
    for rule in RULES:
        assert f"| `{rule.rule_id}` | {rule.title} | 0 |" in section
        assert all(f"<{url}>" in section for url in rule.documentation)
