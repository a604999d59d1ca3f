"""Negative controls: the gate catches a violation anywhere in the real app.

One synthesis of the real app (``app.build_app``) with four deliberately non-compliant resources: an
unencrypted bucket in the dev stage's Data stack, which sits inside the pipeline (it is added while the
pipeline builds the stage, because the pipeline synthesizes each stage as it adds it); a security group
open to the internet in the dev stage's us-east-1 EdgeSecurity (WAF) stack; the same in the sandbox
stage; an unencrypted bucket in the pipeline stack itself.

The same synthesis runs with the acknowledgment helper recording instead of acknowledging, so cdk-nag
reports every raw finding; that proves every acknowledgment matches a real finding on the construct it
names (none is stale) and every finding other than the planted ones is acknowledged.
"""

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

import pytest
from aws_cdk import App, Stack, Stage
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

import pipeline.pipeline_stack
from compliance import junit
from compliance.acknowledgments import RecordedAcknowledgment, recording
from compliance.assembly import Finding
from stages.moodle_stage import MoodleStage
from tests.compliance.conftest import Synthesis, synthesize

PLANTED = {
    "MoodlePipeline/Dev/Data/NonCompliantBucket": {"AwsSolutions-S1", "AwsSolutions-S10"},
    "MoodlePipeline/Dev/EdgeSecurity/OpenSecurityGroup": {"AwsSolutions-EC23"},
    "Sandbox/Network/OpenSecurityGroup": {"AwsSolutions-EC23"},
    "MoodlePipeline/NonCompliantBucket": {"AwsSolutions-S1", "AwsSolutions-S10"},
}
"""Planted resource -> rules it must at least be reported for (it breaks others too)."""


def _open_security_group(scope: IConstruct) -> None:
    ec2.CfnSecurityGroup(
        scope,  # type: ignore[arg-type]
        "OpenSecurityGroup",
        group_description="Negative control: SSH open to the internet",
        security_group_ingress=[
            ec2.CfnSecurityGroup.IngressProperty(
                ip_protocol="tcp", from_port=22, to_port=22, cidr_ip="0.0.0.0/0"
            )
        ],
    )


class NonCompliantStage(MoodleStage):
    """The pipeline's dev stage with planted violations, added before the pipeline synthesizes it."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        if construct_id == "Dev":
            s3.CfnBucket(self.data, "NonCompliantBucket")
            _open_security_group(self.edge_security)


def _plant_outside_the_pipeline(app: App) -> None:
    sandbox = app.node.find_child("Sandbox")
    assert isinstance(sandbox, Stage)
    _open_security_group(sandbox.node.find_child("Network"))
    pipeline_stack = app.node.find_child("MoodlePipeline")
    assert isinstance(pipeline_stack, Stack)
    s3.CfnBucket(pipeline_stack, "NonCompliantBucket")


@pytest.fixture(scope="module")
def negative(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Synthesis, list[RecordedAcknowledgment]]]:
    with pytest.MonkeyPatch.context() as patch, recording() as recorded:
        patch.setattr(pipeline.pipeline_stack, "MoodleStage", NonCompliantStage)
        synthesis = synthesize(
            tmp_path_factory.mktemp("negative") / "cdk.out", after_build=_plant_outside_the_pipeline
        )
    yield synthesis, recorded


def _below(path: str, ancestor: str) -> bool:
    return (path + "/").startswith(ancestor + "/")


def _planted(finding: Finding) -> str | None:
    return next((path for path in PLANTED if _below(finding.path, path)), None)


def test_synthesis_fails_and_names_every_planted_resource(
    negative: tuple[Synthesis, list[RecordedAcknowledgment]],
) -> None:
    synthesis, _ = negative
    assert synthesis.error is not None and "ValidationFailed" in synthesis.error
    findings = synthesis.assembly.findings
    for path, rules in PLANTED.items():
        reported = {finding.rule_id for finding in findings if _below(finding.path, path)}
        assert rules <= reported, f"{path}: expected {sorted(rules)}, cdk-nag reported {sorted(reported)}"


def test_every_acknowledgment_matches_a_finding_on_its_construct(
    negative: tuple[Synthesis, list[RecordedAcknowledgment]],
) -> None:
    synthesis, recorded = negative
    findings = synthesis.assembly.findings
    stale = [
        ack
        for ack in recorded
        if not any(finding.rule_id == ack.rule_id and _below(finding.path, ack.path) for finding in findings)
    ]
    assert not stale, "acknowledgments without a finding (remove them):\n" + "\n".join(
        f"  {ack.path}: {ack.rule_id}" for ack in stale
    )


def test_every_other_finding_is_acknowledged(
    negative: tuple[Synthesis, list[RecordedAcknowledgment]],
) -> None:
    synthesis, recorded = negative
    unacknowledged = [
        finding
        for finding in synthesis.assembly.findings
        if _planted(finding) is None
        and not any(finding.rule_id == ack.rule_id and _below(finding.path, ack.path) for ack in recorded)
    ]
    assert not unacknowledged, "\n".join(f"  {f.path}: {f.rule_id}" for f in unacknowledged)


@pytest.fixture(scope="module")
def planted_gate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``make synth`` on the app with violations planted outside the pipeline and every acknowledgment in
    force: the synthesis fails, then the gate runs anyway and writes the JUnit file for the report group."""
    synthesis = synthesize(
        tmp_path_factory.mktemp("planted") / "cdk.out", after_build=_plant_outside_the_pipeline
    )
    assert synthesis.error is not None and "ValidationFailed" in synthesis.error
    gate = subprocess.run(
        [sys.executable, "-m", "compliance.gate", str(synthesis.outdir)], capture_output=True, text=True
    )
    assert gate.returncode == 1, gate.stderr
    return synthesis.outdir / junit.JUNIT_NAME


def test_the_junit_report_fails_the_planted_findings_and_skips_acknowledged_ones(planted_gate: Path) -> None:
    root = ElementTree.parse(planted_gate).getroot()
    cases = {(case.get("classname"), case.get("name")): case for case in root.iter("testcase")}
    assert len(cases) <= junit.CODEBUILD_CASE_LIMIT, "CodeBuild would drop cases beyond its limit"

    failure = cases[("MoodlePipeline", "AwsSolutions-S1")].find("failure")
    assert failure is not None and "NonCompliantBucket" in (failure.text or "")
    assert failure.get("message", "").startswith("The S3 Bucket has server access logs disabled")
    open_group = cases[("Sandbox/Network", "AwsSolutions-EC23")].find("failure")
    assert open_group is not None and "OpenSecurityGroup" in (open_group.text or "")
    failed = {key for key, case in cases.items() if case.find("failure") is not None}
    assert {key[0] for key in failed} == {"MoodlePipeline", "Sandbox/Network"}, "nothing else fails"

    acknowledged = cases[("MoodlePipeline/Dev/Data", "AwsSolutions-RDS3")].find("skipped")
    assert acknowledged is not None
    assert "database.multi_az is false" in acknowledged.get("message", "")
    assert "Database/Instance/Resource" in (acknowledged.text or "")
