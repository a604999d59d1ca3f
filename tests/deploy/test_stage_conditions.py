"""Rule stage-conditions (issue 20): the entry conditions that skip dev, staging and prod when a scheduled
security rebuild found nothing new are ones CodePipeline accepts, checking a variable the synth step
exports."""

from collections.abc import Callable
from typing import Any

import pytest

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.stage_conditions import RULE
from tests.deploy.conftest import broken, find


def _stages(body: dict[str, Any]) -> list[dict[str, Any]]:
    (pipeline,) = [r for r in body["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    stages: list[dict[str, Any]] = pipeline["Properties"]["Stages"]
    return stages


def _rule(body: dict[str, Any]) -> dict[str, Any]:
    (prod,) = [stage for stage in _stages(body) if stage["Name"] == "Prod"]
    rule: dict[str, Any] = prod["BeforeEntry"]["Conditions"][0]["Rules"][0]
    return rule


def test_the_shipped_pipeline_skips_each_environment_by_a_condition_that_complies(
    all_templates: list[StackTemplate],
) -> None:
    template = find(all_templates, "MoodlePipeline")
    assert [stage["Name"] for stage in _stages(template.body) if "BeforeEntry" in stage] == [
        "Dev",
        "Staging",
        "Prod",
    ]
    assert not RULE.violations([template])


def _pipeline_properties(body: dict[str, Any]) -> dict[str, Any]:
    (pipeline,) = [r for r in body["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    properties: dict[str, Any] = pipeline["Properties"]
    return properties


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda body: _rule(body)["Configuration"].update(Variable="#{Nowhere.DEPLOY}"), "no such namespace"),
        (lambda body: _rule(body)["Configuration"].update(Operator="EQUALS"), "Operator 'EQUALS' is none of"),
        (lambda body: _rule(body)["Configuration"].pop("Value"), "has no Value"),
        (lambda body: _rule(body)["RuleTypeId"].update(Provider="CloudWatchAlarm"), "cannot skip a stage"),
        (
            lambda body: _stages(body)[-1]["BeforeEntry"]["Conditions"][0].update(Result="ROLLBACK"),
            "result 'ROLLBACK' is none of FAIL, SKIP",
        ),
        (
            lambda body: _stages(body)[-1]["BeforeEntry"].update(
                Conditions=_stages(body)[-1]["BeforeEntry"]["Conditions"] * 2
            ),
            "has 2 entry conditions",
        ),
        (lambda body: _pipeline_properties(body).update(PipelineType="V1"), "only V2 pipelines support"),
    ],
)
def test_negative_controls(
    all_templates: list[StackTemplate], breakage: Callable[[dict[str, Any]], None], expected: str
) -> None:
    template = broken(find(all_templates, "MoodlePipeline"), breakage)
    violations = RULE.violations([template])
    assert any(expected in violation.message for violation in violations), violations
