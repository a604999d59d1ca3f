"""Rule supported-runtimes: Lambda functions (ours and CDK's), CodeBuild python steps, Synthetics canaries."""

import datetime

import pytest

from compliance.deploy_rules import StackTemplate, lambda_runtimes
from compliance.deploy_rules.lambda_runtimes import RULE
from tests.deploy.conftest import broken, find, resource_of_type


def test_shipped_runtimes_are_current(shipped_templates: list[StackTemplate]) -> None:
    runtimes = {
        function["Properties"]["Runtime"]
        for template in shipped_templates
        for _, function in template.resources("AWS::Lambda::Function")
    }
    assert runtimes == {"python3.14", "nodejs24.x"}
    assert not RULE.violations(shipped_templates)


def test_catches_a_deprecated_and_an_unknown_lambda_runtime(shipped_templates: list[StackTemplate]) -> None:
    def old(body: dict) -> None:
        resource_of_type(body, "AWS::Lambda::Function", 0)["Properties"]["Runtime"] = "nodejs18.x"
        resource_of_type(body, "AWS::Lambda::Function", 1)["Properties"]["Runtime"] = "ruby2.7"

    messages = [
        v.message
        for v in RULE.violations([broken(find(shipped_templates, "MoodlePipeline/Prod/Application"), old)])
    ]
    assert messages == [
        "runtime nodejs18.x reached its end of life on 2025-04-30",
        "runtime ruby2.7 is not in the table of supported runtimes",
    ]


def test_catches_the_synth_steps_python_once_it_is_past_end_of_life(
    shipped_templates: list[StackTemplate], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = find(shipped_templates, "MoodlePipeline")
    monkeypatch.setattr(lambda_runtimes, "today", lambda: datetime.date(2027, 11, 1))
    violations = RULE.violations([broken(pipeline, lambda body: None)])
    assert {v.message for v in violations} == {"runtime python3.11 reached its end of life on 2027-10-31"}
    assert any("Synth" in v.resource for v in violations)


def test_shipped_canaries_run_a_supported_synthetics_runtime(shipped_templates: list[StackTemplate]) -> None:
    runtimes = {
        canary["Properties"]["RuntimeVersion"]
        for template in shipped_templates
        for _, canary in template.resources("AWS::Synthetics::Canary")
    }
    assert runtimes == {"syn-python-selenium-14.0"}


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        (
            "syn-python-selenium-5.1",
            "canary runtime syn-python-selenium-5.1 is not in the table of supported Synthetics runtimes",
        ),
        (
            "syn-nodejs-puppeteer-9.1",
            "canary runtime syn-nodejs-puppeteer-9.1 is not in the table of supported Synthetics runtimes",
        ),
    ],
)
def test_catches_a_deprecated_or_unknown_canary_runtime(
    shipped_templates: list[StackTemplate], runtime: str, expected: str
) -> None:
    def old(body: dict) -> None:
        resource_of_type(body, "AWS::Synthetics::Canary")["Properties"]["RuntimeVersion"] = runtime

    application = broken(find(shipped_templates, "MoodlePipeline/Prod/Application"), old)
    assert [v.message for v in RULE.violations([application])] == [expected]


def test_catches_a_canary_runtime_once_its_python_is_past_end_of_life(
    shipped_templates: list[StackTemplate], monkeypatch: pytest.MonkeyPatch
) -> None:
    application = find(shipped_templates, "MoodlePipeline/Prod/Application")
    monkeypatch.setattr(lambda_runtimes, "today", lambda: datetime.date(2028, 11, 1))
    messages = {v.message for v in RULE.violations([application]) if "canary" in v.message}
    assert messages == {
        "canary runtime syn-python-selenium-14.0: runtime python3.12 reached its end of life on 2028-10-31"
    }
