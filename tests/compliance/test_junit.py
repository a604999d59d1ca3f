"""compliance.junit on a small assembly: what the pipeline's report group shows a reviewer."""

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from compliance import junit
from compliance.assembly import read_assembly
from compliance.deploy_rules import Violation
from compliance.gate import declared_skips
from compliance.ledger import Changes, Entry
from compliance.nag_rules import pack_rules
from compliance.report import GateResult
from compliance.tools import CheckResult, LintMatch, ToolResults
from tests.compliance.assembly_fixture import ACK_REASON, SKIP_REASON, STACK_PATH, TEMPLATE, write_assembly

S1_FINDING = (
    '{"pluginReports": [{"pluginName": "AwsSolutions", "violations": [{"ruleName": "AwsSolutions-S1", '
    '"severity": "error", "description": "The S3 Bucket has server access logs disabled.", '
    f'"violatingConstructs": [{{"constructPath": "{STACK_PATH}/Plain/Resource"}}]}}]}}]}}'
)


def _result(directory: Path, tools: ToolResults) -> GateResult:
    assembly = read_assembly(directory)
    return GateResult(
        assembly=assembly,
        rules=pack_rules(),
        tools=tools,
        declared_skips=list(declared_skips(assembly)),
        templates=[TEMPLATE],
    )


def _cases(xml: str) -> dict[tuple[str, str, str], ElementTree.Element]:
    root = ElementTree.fromstring(xml)
    return {
        (suite.get("name", ""), case.get("classname", ""), case.get("name", "")): case
        for suite in root.iter("testsuite")
        for case in suite.iter("testcase")
    }


def test_findings_fail_acknowledgments_and_skips_are_skipped_with_their_reason(tmp_path: Path) -> None:
    directory = write_assembly(tmp_path / "cdk.out")
    (directory / "validation-report.json").write_text(S1_FINDING)
    tools = ToolResults(
        passed_checks=[CheckResult("CKV_AWS_21", "versioning", TEMPLATE, "AWS::S3::Bucket.Logs")],
        failed=[CheckResult("CKV_AWS_21", "versioning", TEMPLATE, "AWS::S3::Bucket.Plain")],
        skipped=[CheckResult("CKV_AWS_18", "access logging", TEMPLATE, "AWS::S3::Bucket.Logs", SKIP_REASON)],
        lint_matches=[LintMatch("E3002", "Error", "Additional properties", TEMPLATE, "Resources/Plain")],
    )
    xml = junit.render(junit.collect(_result(directory, tools)))
    cases = _cases(xml)

    s1 = cases[("cdk-nag AWS Solutions", STACK_PATH, "AwsSolutions-S1")].find("failure")
    assert s1 is not None
    assert s1.get("message") == "The S3 Bucket has server access logs disabled."
    assert "Plain/Resource" in (s1.text or ""), "the construct path is in the failure"

    rds3 = cases[("cdk-nag AWS Solutions", STACK_PATH, "AwsSolutions-RDS3")].find("skipped")
    assert rds3 is not None and rds3.get("message") == f"Acknowledged: {ACK_REASON}"
    assert "Database: " + ACK_REASON in (rds3.text or "")

    checkov = cases[("checkov", STACK_PATH, "CKV_AWS_21")]
    assert checkov.find("failure") is not None, "one failed resource fails the check's case"
    skip = cases[("checkov", STACK_PATH, "CKV_AWS_18")].find("skipped")
    assert skip is not None and SKIP_REASON in skip.get("message", "")
    assert cases[("cfn-lint", STACK_PATH, "E3002")].find("failure") is not None

    stale = cases[("checkov", STACK_PATH, "CKV_AWS_115")].find("failure")
    assert stale is not None and "stale skip" in (stale.text or ""), "the fixture's skip matches nothing"

    root = ElementTree.fromstring(xml)
    assert int(root.get("failures", "0")) == 4
    assert all(case.find("failure") is None for key, case in cases.items() if key[0] == "Compliance gate")


def test_passed_rules_fold_into_one_case_per_source_and_stack(tmp_path: Path) -> None:
    directory = write_assembly(tmp_path / "cdk.out")
    cases = junit.collect(_result(directory, ToolResults()))
    passed = [case for case in cases if case.outcome == "passed" and case.suite == "cdk-nag AWS Solutions"]
    assert len(passed) == 1
    (folded,) = passed
    assert folded.rule_id.endswith(" rules passed") and "AwsSolutions-S1" in folded.text
    assert ("cfn-lint", STACK_PATH, "all rules") in {(c.suite, c.stack, c.rule_id) for c in cases}


def test_deploy_rule_violations_fail_their_rule_and_stack_and_clean_rules_pass(tmp_path: Path) -> None:
    directory = write_assembly(tmp_path / "cdk.out")
    result = _result(directory, ToolResults())
    violation = Violation("MoodlePipeline/Dev/Audit", "TrailKey", "CloudTrail may not use this key")
    result.deploy_violations = {"service-key-policies": [violation], "retained-names": []}

    cases = [case for case in junit.collect(result) if case.suite == junit.DEPLOY_SUITE]

    failed = [case for case in cases if case.outcome == "failed"]
    assert [(case.stack, case.rule_id) for case in failed] == [
        ("MoodlePipeline/Dev/Audit", "service-key-policies")
    ]
    assert failed[0].failures[0] == junit.Occurrence("TrailKey", "CloudTrail may not use this key")
    assert "docs.aws.amazon.com" in failed[0].text
    assert [case.outcome for case in cases if case.rule_id == "retained-names"] == ["passed"]


def test_a_tool_that_did_not_run_fails_the_gate_case(tmp_path: Path) -> None:
    directory = write_assembly(tmp_path / "cdk.out")
    tools = ToolResults(errors=["checkov is not installed at .venv-checkov/bin/checkov"])
    (gate,) = [case for case in junit.collect(_result(directory, tools)) if case.suite == junit.GATE_SUITE]
    assert gate.outcome == "failed" and "checkov is not installed" in gate.failures[0].detail


def test_acknowledgment_changes_are_listed_with_their_reasons(tmp_path: Path) -> None:
    assembly = read_assembly(write_assembly(tmp_path / "cdk.out"))
    added = Entry(f"{STACK_PATH}/Database", "AwsSolutions-RDS3", ACK_REASON)
    removed = Entry(f"{STACK_PATH}/Plain", "AwsSolutions-S1", "It was a test bucket.")
    changes = Changes(base="HEAD^", added=[added], removed=[removed])
    cases = {case.rule_id: case for case in junit.change_cases(assembly, changes)}
    assert cases["added: AwsSolutions-RDS3"].outcome == "skipped"
    assert cases["added: AwsSolutions-RDS3"].acknowledged[0].detail == ACK_REASON
    assert cases["removed: AwsSolutions-S1"].outcome == "passed"
    (unavailable,) = junit.change_cases(assembly, Changes(base="HEAD^", unavailable="no git history"))
    assert unavailable.outcome == "skipped" and unavailable.acknowledged[0].detail == "no git history"


SHIPPED_JUNIT = Path(__file__).resolve().parent.parent.parent / "cdk.out" / junit.JUNIT_NAME


@pytest.mark.skipif(
    not SHIPPED_JUNIT.exists(), reason="no cdk.out/compliance-junit.xml: run `make synth` first"
)
def test_the_junit_file_of_make_synth_passes_and_lists_acknowledgments_with_reasons() -> None:
    """The file ``make synth`` (run by ``make test`` before pytest) wrote for the report group."""
    root = ElementTree.parse(SHIPPED_JUNIT).getroot()
    assert root.get("failures") == "0"
    cases = {(case.get("classname", ""), case.get("name", "")): case for case in root.iter("testcase")}
    assert len(cases) <= junit.CODEBUILD_CASE_LIMIT
    stages = {classname.split("/")[1] for classname, _ in cases if classname.startswith("MoodlePipeline/")}
    assert stages == {"Dev", "Staging", "Prod"}
    acknowledged = cases[("MoodlePipeline/Dev/Data", "AwsSolutions-RDS3")].find("skipped")
    assert acknowledged is not None and "database.multi_az is false" in acknowledged.get("message", "")
    prod_passed = [
        case.findtext("system-out", "")
        for (stack, name), case in cases.items()
        if stack == "MoodlePipeline/Prod/Data" and name.endswith(" rules passed")
    ]
    assert any("AwsSolutions-RDS3" in passed for passed in prod_passed), "prod is Multi-AZ: RDS3 passed there"
