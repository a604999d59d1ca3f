"""Rule scheduled-actions (issue 19): the exam windows' actions are ones Application Auto Scaling accepts."""

from collections.abc import Callable
from typing import Any

import pytest

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.scheduled_actions import RULE
from tests.deploy.conftest import broken, find

APPLICATION = "ProdDomain/Application"


def _target(body: dict[str, Any]) -> dict[str, Any]:
    (target,) = [
        resource["Properties"]
        for resource in body["Resources"].values()
        if resource["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"
    ]
    return target


def test_the_exam_windows_synthesize_to_actions_that_comply(all_templates: list[StackTemplate]) -> None:
    template = find(all_templates, APPLICATION)
    assert len(_target(template.body)["ScheduledActions"]) == 4
    assert not RULE.violations([template])


def _first_action(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda body: change(_target(body)["ScheduledActions"][0])


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (
            _first_action(lambda a: a.update(Schedule="at(2027-06-14 08:40)")),
            "is none of at(yyyy-mm-ddThh:mm:ss)",
        ),
        (_first_action(lambda a: a.update(Timezone="Mars/Olympus")), "is no IANA time zone name"),
        (_first_action(lambda a: a.update(ScheduledActionName="exam:09:00")), "without ':', '/', '|'"),
        (
            _first_action(lambda a: a.update(ScalableTargetAction={})),
            "sets neither MinCapacity nor MaxCapacity",
        ),
        (
            _first_action(lambda a: a.update(ScalableTargetAction={"MinCapacity": 11})),
            "raises the minimum to 11, above the maximum 10",
        ),
        (
            lambda body: _target(body)["ScheduledActions"][1].update(
                ScheduledActionName=_target(body)["ScheduledActions"][0]["ScheduledActionName"]
            ),
            "twice",
        ),
        (
            lambda body: _target(body).update(ScheduledActions=_target(body)["ScheduledActions"] * 51),
            "has 204 scheduled actions; at most 200",
        ),
    ],
)
def test_catches_what_application_auto_scaling_refuses(
    all_templates: list[StackTemplate], breakage: Callable[[dict[str, Any]], None], expected: str
) -> None:
    template = find(all_templates, APPLICATION)
    violations = RULE.violations([broken(template, breakage)])
    assert violations, expected
    assert any(expected in violation.message for violation in violations), violations
