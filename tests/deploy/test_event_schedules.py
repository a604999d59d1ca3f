"""Rule event-schedules (issue 20): the security rebuild's schedule is one EventBridge accepts, and it can
start the pipeline."""

from collections.abc import Callable
from typing import Any

import pytest

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.event_schedules import RULE
from tests.deploy.conftest import broken, find

PIPELINE = "MoodlePipeline"


def _scheduled_rule(body: dict[str, Any]) -> dict[str, Any]:
    (rule,) = [
        resource["Properties"]
        for resource in body["Resources"].values()
        if resource["Type"] == "AWS::Events::Rule" and "ScheduleExpression" in resource["Properties"]
    ]
    return rule


def test_the_security_rebuild_schedule_complies(all_templates: list[StackTemplate]) -> None:
    template = find(all_templates, PIPELINE)
    assert _scheduled_rule(template.body)["ScheduleExpression"] == "cron(0 3 ? * MON *)"
    assert not RULE.violations([template])


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda rule: rule.update(ScheduleExpression="cron(0 3 * * MON *)"), '"?" in exactly one'),
        (lambda rule: rule.update(ScheduleExpression="cron(0 3 ? * MON)"), "has 5 fields"),
        (lambda rule: rule.update(ScheduleExpression="rate(1 days)"), 'takes "day" for 1'),
        (lambda rule: rule.update(ScheduleExpression="weekly"), "neither cron(...) nor rate(...)"),
        (lambda rule: rule.update(ScheduleExpression="cron(0 25 ? * MON *)"), "outside 0-23"),
        (lambda rule: rule["Targets"][0].pop("RoleArn"), "has no RoleArn"),
        (lambda rule: rule.update(EventBusName="custom"), "default event bus"),
        (lambda rule: rule.update(Targets=rule["Targets"] * 6), "has 6 targets; at most 5"),
    ],
)
def test_negative_controls(
    all_templates: list[StackTemplate], breakage: Callable[[dict[str, Any]], None], expected: str
) -> None:
    template = broken(find(all_templates, PIPELINE), lambda body: breakage(_scheduled_rule(body)))
    violations = RULE.violations([template])
    assert any(expected in violation.message for violation in violations), violations
