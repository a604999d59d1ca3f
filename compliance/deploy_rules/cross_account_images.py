"""ECS tasks can pull images from the tooling account's repository."""

import re
from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import (
    DeployRule,
    Json,
    StackTemplate,
    Violation,
    allows,
    as_list,
    literal,
    referenced_id,
    role_allows,
    statements,
)

ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/([^:@]+)")
PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


def _repository_policy(
    templates: Sequence[StackTemplate], account: str, region: str, name: str
) -> list[dict[str, Json]] | None:
    for template in templates:
        if (template.account, template.region) != (account, region):
            continue
        for _, repository in template.resources("AWS::ECR::Repository"):
            properties = repository.get("Properties", {})
            if properties.get("RepositoryName") == name:
                return statements(properties.get("RepositoryPolicyText"))
    return None


def _grants(policy: list[dict[str, Json]], account: str) -> bool:
    for action in PULL_ACTIONS:
        granted = False
        for statement in policy:
            principal = statement.get("Principal") or {}
            principals = (
                [literal(p) or "" for p in as_list(principal.get("AWS", []))]
                if isinstance(principal, dict)
                else []
            )
            if allows(statement, action) and any(f":{account}:" in p for p in principals):
                granted = True
        if not granted:
            return False
    return True


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """A task that pulls an image from another account's ECR repository needs both sides: the
    repository policy must allow the pulling account ecr:BatchGetImage and ecr:GetDownloadUrlForLayer
    (https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-policy-examples.html), and the
    task execution role must be allowed them too, with ecr:GetAuthorizationToken
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html);
    otherwise every task stops with CannotPullContainerError and the deployment never stabilises."""
    for template in templates:
        for logical_id, definition in template.resources("AWS::ECS::TaskDefinition"):
            properties = definition.get("Properties", {})
            role = referenced_id(properties.get("ExecutionRoleArn"))
            for container in properties.get("ContainerDefinitions", []):
                match = ECR_IMAGE.match(literal(container.get("Image")) or "")
                if not match or match.group(1) == template.account:
                    continue
                account, region, name = match.groups()
                policy = _repository_policy(templates, account, region, name)
                if policy is None:
                    yield Violation(
                        template.path, logical_id, f"pulls {name} from {account}, where no stack creates it"
                    )
                elif not _grants(policy, template.account):
                    yield Violation(
                        template.path,
                        logical_id,
                        f"the policy of repository {name} does not let {template.account} pull",
                    )
                for action in (*PULL_ACTIONS, "ecr:GetAuthorizationToken"):
                    if not role_allows(template, role, action):
                        yield Violation(template.path, logical_id, f"the execution role may not {action}")


RULE = DeployRule("cross-account-images", "Tasks may pull their image from the tooling account", check)
