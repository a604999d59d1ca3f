"""Rule cross-stack-references: references resolve, and order deploys and teardowns."""

import json

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.cross_stack_references import RULE
from tests.deploy.conftest import broken, find

APPLICATION = "MoodlePipeline/Prod/Application"


def test_the_application_reads_the_other_stacks_of_its_stage(shipped_templates: list[StackTemplate]) -> None:
    application = find(shipped_templates, APPLICATION)
    text = json.dumps(application.body)
    for producer in ("Prod-Network", "Prod-Audit", "Prod-Data"):
        assert f'"Fn::ImportValue": "{producer}:' in text, "strong: moodle_infra/reference_strength.py"
    assert '"StackName": "Prod-EdgeSecurity"' in text
    assert '"Region": "us-east-1"' in text, "the web ACL's ARN comes from the us-east-1 stack"
    assert not RULE.violations(shipped_templates)


def test_catches_a_missing_dependency_a_missing_output_and_an_unknown_export(
    shipped_templates: list[StackTemplate],
) -> None:
    application = find(shipped_templates, APPLICATION)
    unordered = StackTemplate(
        application.path,
        application.account,
        application.region,
        application.body,
        application.directory,
        application.stack_name,
        tuple(path for path in application.depends_on if not path.endswith("/Audit")),
    )

    def dangling(body: dict) -> None:
        body["Resources"]["Planted"] = {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "DisplayName": {
                    "Fn::GetStackOutput": {"StackName": "Prod-Data", "OutputName": "NoSuchOutput"}
                },
                "TopicName": {"Fn::ImportValue": "nobody-exports-this"},
            },
        }

    messages = [
        v.message for v in RULE.violations([*shipped_templates, unordered, broken(application, dangling)])
    ]
    assert any("does not depend on its exporter MoodlePipeline/Prod/Audit" in m for m in messages)
    assert any("Prod-Data.NoSuchOutput: no synthesized stack" in m for m in messages)
    assert any("'nobody-exports-this': no stack of 444444444444/eu-west-1 exports it" in m for m in messages)
