"""Rule connection-prefixes (issue 17 item 3): every role that may use the git connection may use it under
both service prefixes, codestar-connections and codeconnections."""

from typing import Any

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.connection_prefixes import ACTIONS, RULE
from pipeline.connection_permissions import CONNECTION_ACTIONS
from tests.deploy.conftest import broken, find

CONNECTION = "arn:aws:codeconnections:eu-west-1:111111111111:connection/00000000-0000-0000-0000-000000000000"


def _policies_using_the_connection(body: dict[str, Any]) -> dict[str, list[str]]:
    """Policy logical ID -> the UseConnection actions it grants on the configured connection."""
    found: dict[str, list[str]] = {}
    for logical_id, resource in body["Resources"].items():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if statement.get("Resource") == CONNECTION:
                found.setdefault(logical_id, []).extend(a for a in actions if a in ACTIONS)
    return found


def test_the_source_action_and_every_cloning_project_have_both_prefixes(
    shipped_templates: list[StackTemplate],
) -> None:
    assert set(CONNECTION_ACTIONS) == set(ACTIONS)
    policies = _policies_using_the_connection(find(shipped_templates, "MoodlePipeline").body)
    users = {
        "SourceexampleorgmoodleonawsCodePipelineActionRole",
        "BuildSynth",
        "BuildMoodleImage",
        "SmokeTestdev",
    }
    for user in users:
        assert any(user in logical_id for logical_id in policies), f"no policy of {user} uses the connection"
    for logical_id, actions in policies.items():
        assert set(actions) == set(ACTIONS), logical_id
    assert not RULE.violations(shipped_templates)


def _drop_new_prefix(body: dict[str, Any]) -> None:
    """CDK's own grant only: the old prefix, as before the fix, on one CodeBuild role."""
    for logical_id, resource in body["Resources"].items():
        if resource["Type"] == "AWS::IAM::Policy" and "BuildMoodleImage" in logical_id:
            document = resource["Properties"]["PolicyDocument"]
            document["Statement"] = [
                s for s in document["Statement"] if s.get("Sid") != "UseConnectionUnderBothServicePrefixes"
            ]


def _only_new_prefix(body: dict[str, Any]) -> None:
    body["Resources"]["PlantedRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": {}},
    }
    body["Resources"]["PlantedPolicy"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "planted",
            "Roles": [{"Ref": "PlantedRole"}],
            "PolicyDocument": {
                "Statement": [
                    {"Effect": "Allow", "Action": "codeconnections:UseConnection", "Resource": CONNECTION}
                ]
            },
        },
    }


def test_catches_a_role_with_only_one_prefix(shipped_templates: list[StackTemplate]) -> None:
    pipeline = find(shipped_templates, "MoodlePipeline")
    old_only = RULE.violations([broken(pipeline, _drop_new_prefix)])
    assert [v.resource for v in old_only] and all("BuildMoodleImage" in v.resource for v in old_only)
    assert "but not codeconnections:UseConnection" in old_only[0].message
    new_only = RULE.violations([broken(pipeline, _only_new_prefix)])
    assert [(v.resource, v.message) for v in new_only] == [
        (
            "PlantedRole",
            f"may use {CONNECTION} with codeconnections:UseConnection but not "
            "codestar-connections:UseConnection",
        )
    ]
