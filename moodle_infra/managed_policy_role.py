"""An IAM role whose permissions live in a customer managed policy instead of an inline one.

CDK's grants (``bucket.grant_read(role)``, container secrets, log groups...) add statements to a role's
inline ``DefaultPolicy``. NIST 800-53 rev 5 (AC-6, ``IAMNoInlinePolicy``) asks for managed policies,
which IAM versions and lets an operator roll back and audit on their own. This role collects every
statement CDK adds into one customer managed policy attached to it alone, so the permissions stay
exactly as narrow as CDK's grants make them.
"""

from typing import Any

import jsii
from aws_cdk import aws_iam as iam
from constructs import Construct


class ManagedPolicyRole(iam.Role):
    """Drop-in for :class:`aws_cdk.aws_iam.Role`; the policy (``<id>/Policy``) appears on the first grant."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._managed_policy: iam.ManagedPolicy | None = None

    @jsii.member(jsii_name="addToPrincipalPolicy")
    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        if self._managed_policy is None:
            self._managed_policy = iam.ManagedPolicy(
                self, "Policy", description=f"Permissions of {self.node.path}", roles=[self]
            )
        self._managed_policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self._managed_policy)
