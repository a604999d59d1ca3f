"""Every role that may use a CodeConnections connection may use it under both IAM service prefixes."""

from collections import defaultdict
from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import (
    POLICY_TYPES,
    DeployRule,
    Json,
    StackTemplate,
    Violation,
    allows,
    as_list,
    literal,
    referenced_id,
    statements,
)

ACTIONS = ("codestar-connections:UseConnection", "codeconnections:UseConnection")


def _role_documents(template: StackTemplate) -> dict[str, list[Json]]:
    """Role logical ID -> the policy documents that apply to it (inline and attached)."""
    documents: dict[str, list[Json]] = defaultdict(list)
    for logical_id, role in template.resources("AWS::IAM::Role"):
        for policy in role.get("Properties", {}).get("Policies", []) or []:
            documents[logical_id].append(policy.get("PolicyDocument"))
    for _, policy in template.resources(*POLICY_TYPES):
        properties = policy.get("Properties", {})
        for entry in as_list(properties.get("Roles", [])) + as_list(properties.get("RoleName", [])):
            role_id = referenced_id(entry)
            if role_id is not None:
                documents[role_id].append(properties.get("PolicyDocument"))
    return documents


def _connections(documents: list[Json]) -> dict[str, set[str]]:
    """Connection ARN (as written) -> the UseConnection actions the documents allow on it."""
    found: dict[str, set[str]] = defaultdict(set)
    for document in documents:
        for statement in statements(document):
            for action in ACTIONS:
                if allows(statement, action):
                    for resource in as_list(statement.get("Resource", [])):
                        found[literal(resource) or str(resource)].add(action)
    return found


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """CodeConnections (service prefix ``codeconnections``) names its connection resource
    ``arn:${Partition}:codeconnections:${Region}:${Account}:connection/${ConnectionId}``
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodeconnections.html);
    the former CodeStar Connections (prefix ``codestar-connections``) names it with its own prefix
    (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodestarconnections.html).
    New connections get the new ARN (https://docs.aws.amazon.com/dtconsole/latest/userguide/welcome-connections.html),
    while CDK grants only the old action. So a role allowed UseConnection under one prefix must be
    allowed it under the other on the same connection: the pipeline's source action and every
    CodeBuild project that clones the repository then work whichever prefix IAM evaluates."""
    for template in templates:
        for role, documents in _role_documents(template).items():
            for connection, actions in _connections(documents).items():
                missing = [action for action in ACTIONS if action not in actions]
                if missing:
                    yield Violation(
                        template.path,
                        role,
                        f"may use {connection} with {sorted(actions)[0]} but not {missing[0]}",
                    )


RULE = DeployRule(
    "connection-prefixes", "Roles that use the git connection have both CodeConnections prefixes", check
)
