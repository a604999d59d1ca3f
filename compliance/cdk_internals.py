"""Checkov skips that hold for every custom resource provider Lambda that CDK itself creates.

CDK deploys small Lambdas of its own (``Custom::...CustomResourceProvider``: the VPC default security
group restriction, S3 auto-delete, the cross-region export reader and writer). CloudFormation invokes
them during a deployment and they call one AWS API. The construct that makes CDK create one calls
:func:`skip_checkov_on_provider` next to it, with the provider's construct path below the stack.
"""

from constructs import IConstruct

from compliance.acknowledgments import acknowledge, skip_checkov, skip_checkov_internal

AUTO_DELETE_PROVIDER = "Custom::S3AutoDeleteObjectsCustomResourceProvider/Handler"
"""Empties a bucket whose stack is deleted (``auto_delete_objects=True``), one per stack."""

_CONCURRENCY = (
    "A custom resource handler runs only while CloudFormation deploys the stack. Reserving concurrency "
    "for it would take capacity from the account, and fails outright on new accounts, whose quota of 10 "
    "concurrent executions must stay unreserved"
)
_DEAD_LETTERS = (
    "A custom resource handler reports every failure back to CloudFormation, which shows it as a failed "
    "stack event and rolls back; a dead-letter queue would hold nothing to act on"
)
_VPC = (
    "A custom resource handler calls AWS APIs only, never a resource inside the VPC; putting it in the VPC "
    "would add network interfaces and NAT traffic and isolate nothing"
)

DEPLOY_TIME_LAMBDA_ACKNOWLEDGMENTS = {
    "NIST.800.53.R5-LambdaConcurrency": _CONCURRENCY,
    "NIST.800.53.R5-LambdaDLQ": _DEAD_LETTERS,
    "NIST.800.53.R5-LambdaInsideVPC": _VPC,
}
"""NIST rules that do not fit Lambdas which only run during a deployment (custom resource handlers)."""

PROVIDER_LAMBDA_CHECKOV_SKIPS = {
    "CKV_AWS_115": _CONCURRENCY,
    "CKV_AWS_116": _DEAD_LETTERS,
    "CKV_AWS_117": _VPC,
}
"""The same for checkov."""


def acknowledge_deploy_time_lambda(function: IConstruct) -> None:
    """Acknowledge :data:`DEPLOY_TIME_LAMBDA_ACKNOWLEDGMENTS` and skip :data:`PROVIDER_LAMBDA_CHECKOV_SKIPS`
    on one custom resource handler Lambda that we create (or that a CDK construct creates for us)."""
    for rule_id, reason in DEPLOY_TIME_LAMBDA_ACKNOWLEDGMENTS.items():
        acknowledge(function, rule_id, reason)
    for check_id, comment in PROVIDER_LAMBDA_CHECKOV_SKIPS.items():
        skip_checkov(function, check_id, comment)


def skip_checkov_on_provider(scope: IConstruct, function_path: str) -> None:
    """Skip the checks of :data:`PROVIDER_LAMBDA_CHECKOV_SKIPS` on the Lambda at ``function_path``
    below ``scope`` (for ``Custom::...CustomResourceProvider`` singletons: ``<provider>/Handler``)."""
    for check_id, comment in PROVIDER_LAMBDA_CHECKOV_SKIPS.items():
        skip_checkov_internal(scope, function_path, check_id, comment)
