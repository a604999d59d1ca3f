"""Rule weak-references (issue 17 item 3): within a Region every cross-stack reference is strong (an export
and Fn::ImportValue), and the one weak reference left, the CloudFront web ACL read from us-east-1, reads a
value that cannot change."""

import json
from typing import Any

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.weak_references import RULE
from tests.deploy.conftest import broken, find

APPLICATION = "MoodlePipeline/Prod/Application"
WEB_ACL = "WafWebAclBE24253C"
"""Pinned: a new logical ID would replace the web ACL, and the weak reference would keep the old ARN."""


def _weak_references(template: StackTemplate) -> list[dict[str, Any]]:
    found = []

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            if "Fn::GetStackOutput" in value:
                found.append(value["Fn::GetStackOutput"])
            for inner in value.values():
                visit(inner)
        elif isinstance(value, list):
            for inner in value:
                visit(inner)

    visit(template.body)
    return found


def test_only_the_web_acl_is_read_weakly_and_the_rest_is_imported(
    shipped_templates: list[StackTemplate],
) -> None:
    application = find(shipped_templates, APPLICATION)
    assert {(ref["StackName"], ref["Region"]) for ref in _weak_references(application)} == {
        ("Prod-EdgeSecurity", "us-east-1")
    }
    text = json.dumps(application.body)
    for producer in ("Prod-Network", "Prod-Audit", "Prod-Data"):
        assert f'"Fn::ImportValue": "{producer}:ExportsOutput' in text
    data = find(shipped_templates, "MoodlePipeline/Prod/Data")
    assert not _weak_references(data)
    edge = find(shipped_templates, "MoodlePipeline/Prod/EdgeSecurity")
    assert edge.resource(WEB_ACL) is not None
    assert not RULE.violations(shipped_templates)


def _weak_security_group(body: dict[str, Any]) -> None:
    """A same-Region reference made weak again, as cdk.json's default would make it."""
    body["Resources"]["Planted"] = {
        "Type": "AWS::EC2::SecurityGroupIngress",
        "Properties": {
            "GroupId": {
                "Fn::GetStackOutput": {
                    "StackName": "Prod-Data",
                    "Region": "eu-west-1",
                    "OutputName": "PublishOutputFnGetAttDatabaseInstanceSecurityGroupGroupId",
                }
            },
            "IpProtocol": "tcp",
        },
    }


def _named_web_acl(body: dict[str, Any]) -> None:
    body["Resources"][WEB_ACL]["Properties"]["Name"] = "moodle-prod"


def test_catches_a_weak_reference_within_the_region(shipped_templates: list[StackTemplate]) -> None:
    violations = RULE.violations(
        [*shipped_templates, broken(find(shipped_templates, APPLICATION), _weak_security_group)]
    )
    assert len(violations) == 1
    assert "a weak reference within eu-west-1; make its producer strong" in violations[0].message


def test_catches_a_web_acl_that_a_rename_would_replace(shipped_templates: list[StackTemplate]) -> None:
    edge = find(shipped_templates, "MoodlePipeline/Prod/EdgeSecurity")
    others = [template for template in shipped_templates if template is not edge]
    renamed = broken(edge, _named_web_acl)
    violations = RULE.violations([*others, renamed])
    assert [v.message.split(": ", 1)[1] for v in violations] == [
        f"{WEB_ACL} sets Name, so renaming it replaces it (and changes its ARN)"
    ]
