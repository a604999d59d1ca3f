"""No IAM wildcard that AWS does not force on us."""

from collections.abc import Iterator

import pytest

from tests.conftest import STAGE_STACKS, TemplateOf

_NO_RESOURCE_LEVEL = "AWS offers no resource-level permissions for it"
_LOG_RETENTION = "CDK's log-retention provider for the RDS log exports, whose log groups RDS creates"
WILDCARD_RESOURCE_ACTIONS = {
    "ec2:DescribeManagedPrefixLists": _NO_RESOURCE_LEVEL,
    "ecr:GetAuthorizationToken": _NO_RESOURCE_LEVEL,
    "logs:PutRetentionPolicy": _LOG_RETENTION,
    "logs:DeleteRetentionPolicy": _LOG_RETENTION,
    "ecs:ListTasks": "its only resource type is container-instance, which Fargate tasks have none of; "
    "the install-or-upgrade handler's statement is limited to its cluster by the ecs:cluster condition",
    "s3:ListAllMyBuckets": "a Synthetics canary's role must have it (CloudWatch's required canary "
    "permissions), and it has no resource-level permissions",
    "cloudwatch:PutMetricData": "no resource-level permissions; the canary's statement is limited to the "
    "CloudWatchSynthetics namespace by the cloudwatch:namespace condition",
}
"""Actions that may name Resource "*", each with why."""


def _allow_statements(template: TemplateOf, environment: str, stack: str) -> Iterator[tuple[str, dict]]:
    resources = template(environment, stack).to_json()["Resources"]
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        documents = []
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(properties["PolicyDocument"])
        if resource["Type"] == "AWS::IAM::Role":
            documents.extend(policy["PolicyDocument"] for policy in properties.get("Policies", []))
        for document in documents:
            for statement in document["Statement"]:
                if statement["Effect"] == "Allow":
                    yield logical_id, statement


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("stack", STAGE_STACKS)
def test_no_wildcard_actions(template: TemplateOf, environment: str, stack: str) -> None:
    for logical_id, statement in _allow_statements(template, environment, stack):
        for action in _as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), f"{stack}/{logical_id} allows {action}"


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("stack", STAGE_STACKS)
def test_wildcard_resources_only_where_aws_forces_them(
    template: TemplateOf, environment: str, stack: str
) -> None:
    for logical_id, statement in _allow_statements(template, environment, stack):
        if "*" in _as_list(statement.get("Resource")):
            unexpected = set(_as_list(statement["Action"])) - set(WILDCARD_RESOURCE_ACTIONS)
            assert not unexpected, f"{stack}/{logical_id} grants {sorted(unexpected)} on every resource"
