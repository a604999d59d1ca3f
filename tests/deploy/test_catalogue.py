"""The deploy-time rule suite as a whole: every rule passes on every template of the app, cites AWS's
documentation, and has its own test module with a negative control."""

from pathlib import Path

import pytest

from compliance.deploy_rules import RULES, StackTemplate
from compliance.deploy_rules.catalogue import run_rules

HERE = Path(__file__).resolve().parent


def test_the_suite_sees_every_stage_and_the_pipeline(all_templates: list[StackTemplate]) -> None:
    paths = {template.path for template in all_templates}
    for stage in (
        "MoodlePipeline/Dev",
        "MoodlePipeline/Staging",
        "MoodlePipeline/Prod",
        "Sandbox",
        "ProdDomain",
    ):
        for stack in ("EdgeSecurity", "Network", "Audit", "Data", "Application"):
            assert f"{stage}/{stack}" in paths
    assert "MoodlePipeline" in paths
    assert any(path.startswith("cross-region-stack-") for path in paths)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.rule_id)
def test_every_template_complies(rule, all_templates: list[StackTemplate]) -> None:
    violations = rule.violations(all_templates)
    assert not violations, "\n".join(map(str, violations))


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.rule_id)
def test_rule_cites_aws_documentation_and_has_a_negative_control(rule) -> None:
    assert any(url.startswith("https://docs.aws.amazon.com/") for url in rule.documentation), rule.rule_id
    module = rule.check.__module__.rsplit(".", 1)[-1]
    test_file = HERE / f"test_{module}.py"
    assert test_file.exists(), f"{rule.rule_id} has no {test_file.name}"
    assert "broken(" in test_file.read_text(), f"{test_file.name} has no negative control"


def test_rule_ids_are_unique() -> None:
    assert len({rule.rule_id for rule in RULES}) == len(RULES)


def test_run_rules_reports_every_rule(shipped_templates: list[StackTemplate]) -> None:
    assert set(run_rules(shipped_templates)) == {rule.rule_id for rule in RULES}
