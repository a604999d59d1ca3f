"""Both IAM service prefixes for the CodeConnections connection, on every role that uses it.

AWS renamed CodeStar Connections to CodeConnections: new connections have ``arn:aws:codeconnections:``
ARNs and their actions the ``codeconnections:`` prefix, while CDK still grants only the old
``codestar-connections:UseConnection`` (to the source action's role and to every CodeBuild role that
clones the repository). IAM matches an action's prefix against the resource type of its own service
(service authorization reference: CodeConnections' ``connection`` is ``arn:...:codeconnections:...``,
CodeStar Connections' is ``arn:...:codestar-connections:...``), and AWS documents no rule that lets the
old prefix authorize the new ARN. Granting both on the configured connection works under either reading.
The deploy rule ``connection-prefixes`` checks the result on the synthesized templates.
"""

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

CONNECTION_ACTIONS = ("codestar-connections:UseConnection", "codeconnections:UseConnection")


def _grants_use_connection(policy: iam.Policy) -> bool:
    document = Stack.of(policy).resolve(policy.document.to_json()) or {}
    for statement in document.get("Statement", []):
        actions = statement.get("Action", [])
        if set(actions if isinstance(actions, list) else [actions]) & set(CONNECTION_ACTIONS):
            return True
    return False


def grant_both_connection_prefixes(scope: Construct, *, connection_arn: str) -> int:
    """Add both UseConnection actions on ``connection_arn`` to every policy under ``scope`` that grants
    either; call after ``build_pipeline()``, once every role has its grants. Returns how many."""
    policies = [node for node in scope.node.find_all() if isinstance(node, iam.Policy)]
    using = [policy for policy in policies if _grants_use_connection(policy)]
    for policy in using:
        policy.add_statements(
            iam.PolicyStatement(
                sid="UseConnectionUnderBothServicePrefixes",
                actions=list(CONNECTION_ACTIONS),
                resources=[connection_arn],
            )
        )
    return len(using)
