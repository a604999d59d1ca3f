"""Rule cross-account-images: every environment account may pull the Moodle image."""

import json

from compliance.deploy_rules import StackTemplate
from compliance.deploy_rules.cross_account_images import RULE
from tests.deploy.conftest import broken, find, resource_of_type


def test_stages_pull_from_the_tooling_account(shipped_templates: list[StackTemplate]) -> None:
    application = find(shipped_templates, "MoodlePipeline/Prod/Application")
    assert "111111111111.dkr.ecr.eu-west-1." in json.dumps(application.body)
    assert application.account != "111111111111"
    assert not RULE.violations(shipped_templates)


def test_catches_an_account_the_repository_does_not_admit(shipped_templates: list[StackTemplate]) -> None:
    def without_prod(body: dict) -> None:
        policy = resource_of_type(body, "AWS::ECR::Repository")["Properties"]["RepositoryPolicyText"]
        principals = policy["Statement"][0]["Principal"]["AWS"]
        principals[:] = [p for p in principals if "444444444444" not in p]

    pipeline = find(shipped_templates, "MoodlePipeline")
    others = [t for t in shipped_templates if t.path != pipeline.path]
    violations = RULE.violations([*others, broken(pipeline, without_prod)])
    assert {v.stack for v in violations} == {"MoodlePipeline/Prod/Application"}
    assert all("does not let 444444444444 pull" in v.message for v in violations)


def test_catches_an_execution_role_without_pull_rights_and_a_missing_repository(
    shipped_templates: list[StackTemplate],
) -> None:
    def no_pull(body: dict) -> None:
        for logical_id, resource in body["Resources"].items():
            if resource["Type"] == "AWS::IAM::ManagedPolicy" and "WebTaskExecutionRole" in logical_id:
                statements = resource["Properties"]["PolicyDocument"]["Statement"]
                statements[:] = [s for s in statements if "ecr:BatchGetImage" not in s["Action"]]

    application = find(shipped_templates, "MoodlePipeline/Prod/Application")
    messages = [v.message for v in RULE.violations([*shipped_templates, broken(application, no_pull)])]
    assert "the execution role may not ecr:BatchGetImage" in messages
    without_pipeline = [t for t in shipped_templates if t.path != "MoodlePipeline"]
    assert any("where no stack creates it" in v.message for v in RULE.violations(without_pipeline))
