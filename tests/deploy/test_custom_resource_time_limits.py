"""Rule custom-resource-time-limits: custom resources answer within CloudFormation's hour; the upgrade,
which may take longer, waits on a wait condition of its own with at most 12 hours."""

from typing import Any

import pytest

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.custom_resource_teardown import handler_lambdas
from compliance.deploy_rules.custom_resource_time_limits import RULE, waiter_seconds
from tests.deploy.conftest import broken, find

APPLICATION = "MoodlePipeline/Prod/Application"


def _install(body: dict[str, Any]) -> dict[str, Any]:
    [install] = [r for r in body["Resources"].values() if r["Type"] == "Custom::MoodleInstallOrUpgrade"]
    return install


def _wait_condition(body: dict[str, Any]) -> dict[str, Any]:
    [condition] = [r for r in body["Resources"].values() if r["Type"] == "AWS::CloudFormation::WaitCondition"]
    return condition


def test_the_shipped_custom_resources_and_wait_condition_fit(shipped_templates: list[StackTemplate]) -> None:
    application = find(shipped_templates, APPLICATION)
    [install] = [i for i, r in application.resources("Custom::MoodleInstallOrUpgrade")]
    provider = handler_lambdas(application, install)[0]
    # 15 s x 120 attempts of the provider's waiter after its 900 s onEvent function: 2,700 s.
    assert waiter_seconds(application, provider) == 1800
    assert application.resource(install)["Properties"]["ServiceTimeout"] == "2700"  # type: ignore[index]
    assert not RULE.violations(shipped_templates)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (
            lambda body: _install(body)["Properties"].update(ServiceTimeout="7200"),
            "ServiceTimeout '7200' is not an integer from 1 to 3600",
        ),
        (
            lambda body: _install(body)["Properties"].update(ServiceTimeout="600"),
            "its provider may work 900 s and then poll for 1800 s, longer than CloudFormation waits for it "
            "(600 s)",
        ),
        (
            lambda body: _wait_condition(body)["Properties"].update(Timeout="86400"),
            "Timeout '86400' is not a number of seconds from 1 to 43200",
        ),
    ],
    ids=["service-timeout-over-an-hour", "provider-polls-too-long", "wait-condition-over-12-hours"],
)
def test_catches_work_longer_than_cloudformation_waits(
    shipped_templates: list[StackTemplate], breakage: Any, message: str
) -> None:
    violations = RULE.violations([broken(find(shipped_templates, APPLICATION), breakage)])
    assert message in [v.message for v in violations]


def test_catches_a_handler_that_outlives_the_default_hour(shipped_templates: list[StackTemplate]) -> None:
    """The prefix-list lookup (CDK's AwsCustomResource) sets no ServiceTimeout: CloudFormation waits an
    hour, and its function must not be allowed to run longer."""

    def slow(body: dict[str, Any]) -> None:
        [lookup] = [r for r in body["Resources"].values() if r["Type"] == "Custom::AWS"]
        function = body["Resources"][lookup["Properties"]["ServiceToken"]["Fn::GetAtt"][0]]
        function["Properties"]["Timeout"] = 4000

    [violation] = RULE.violations([broken(find(shipped_templates, APPLICATION), slow)])
    assert "may run 4000 s, longer than CloudFormation waits for it (3600 s)" in violation.message


def test_catches_two_wait_conditions_on_one_handle(shipped_templates: list[StackTemplate]) -> None:
    """A reused handle counts the signal of the earlier run again: the deploy would not wait at all."""

    def shared(body: dict[str, Any]) -> None:
        body["Resources"]["SecondReady"] = dict(_wait_condition(body))

    [violation] = RULE.violations([broken(find(shipped_templates, APPLICATION), shared)])
    assert (violation.resource, violation.message.split(" ", 3)[:3]) == (
        "SecondReady",
        ["shares", "its", "handle"],
    )
