"""The shipped app passes cdk-nag, and its acknowledgments follow each environment's configuration."""

import json

import pytest

from compliance.acknowledgments import PER_FINDING_RULES
from moodle_infra.config import ProjectConfig
from tests.compliance.conftest import Synthesis

STAGE_STACKS = ("EdgeSecurity", "Network", "Audit", "Data", "Application")


def test_shipped_app_has_no_unacknowledged_finding(shipped_synthesis: Synthesis) -> None:
    findings = "\n".join(
        f"  {finding.rule_id} ({finding.severity}) on {finding.path}"
        for finding in shipped_synthesis.assembly.findings
    )
    assert shipped_synthesis.error is None, f"{shipped_synthesis.error}\n{findings}"
    report = json.loads((shipped_synthesis.outdir / "validation-report.json").read_text())
    assert report["pluginReports"] == [], (
        "CDK writes the report on every validated synthesis: it must be empty"
    )


def test_every_stack_of_every_stage_was_synthesized(
    shipped_synthesis: Synthesis, project_config: ProjectConfig
) -> None:
    stacks = {stack.path for stack in shipped_synthesis.assembly.stacks}
    stages = [f"MoodlePipeline/{name.title()}" for name in project_config.environments] + ["Sandbox"]
    expected = {"MoodlePipeline"} | {f"{stage}/{stack}" for stage in stages for stack in STAGE_STACKS}
    assert expected <= stacks, f"missing: {sorted(expected - stacks)}"


def _acknowledged(synthesis: Synthesis, stage: str, rule_id: str) -> bool:
    return any(
        ack.rule_id == rule_id
        for stack in synthesis.assembly.stacks
        if stack.stage == stage
        for ack in stack.acknowledgments
    )


@pytest.mark.parametrize(
    ("rule_id", "caused_by"),
    [
        ("AwsSolutions-RDS3", lambda config: not config.database.multi_az),
        ("NIST.800.53.R5-RDSMultiAZSupport", lambda config: not config.database.multi_az),
        ("AwsSolutions-RDS10", lambda config: not config.deletion_protection),
        ("NIST.800.53.R5-ELBDeletionProtectionEnabled", lambda config: not config.deletion_protection),
        ("AwsSolutions-AEC4", lambda config: config.cache.replicas == 0),
        ("NIST.800.53.R5-RDSInBackupPlan", lambda config: config.removal_policy == "destroy"),
        ("AwsSolutions-CFR4", lambda config: config.custom_domain is None),
    ],
)
def test_configuration_driven_findings_are_acknowledged_only_where_the_configuration_causes_them(
    shipped_synthesis: Synthesis, project_config: ProjectConfig, rule_id: str, caused_by
) -> None:
    environments = {
        f"MoodlePipeline/{name.title()}": config for name, config in project_config.environments.items()
    }
    environments["Sandbox"] = project_config.sandbox
    for stage, config in environments.items():
        assert _acknowledged(shipped_synthesis, stage, rule_id) == caused_by(config), (
            f"{stage}: {rule_id} acknowledged: {_acknowledged(shipped_synthesis, stage, rule_id)}"
        )


def test_acknowledgments_are_on_one_resource_and_one_finding(shipped_synthesis: Synthesis) -> None:
    for stack in shipped_synthesis.assembly.stacks:
        for ack in stack.acknowledgments:
            assert ack.path != stack.path and stack.contains(ack.path), (
                f"{ack.rule_id} on a whole stack: {ack.path}"
            )
            assert ack.rule_id not in PER_FINDING_RULES, f"{ack.path}: bare {ack.rule_id} covers no finding"
            assert len(ack.reason) >= 30, f"{ack.path}: {ack.rule_id} needs a reason"
