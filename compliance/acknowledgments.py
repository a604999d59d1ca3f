"""Acknowledge one finding on one resource, with the reason next to the code that creates the resource.

Construct files call these right after they create a resource the finding is about, so the reason lives
with the code and is reviewed with it:

- :func:`acknowledge`: a cdk-nag finding (or a CDK annotation warning) on a construct we hold.
- :func:`acknowledge_internal`: the same on a resource CDK creates internally (custom-resource provider
  Lambdas, log retention, the VPC's default security group restriction...), found by its construct path
  below a scope we hold, e.g. ``acknowledge_internal(Stack.of(self), "LogRetentionaae0.../ServiceRole",
  ...)``.
- :func:`skip_checkov` and :func:`skip_checkov_internal`: a checkov check that cannot apply, recorded in the
  resource's template metadata (``checkov: skip``) where checkov reads it, so it shows as skipped with the
  reason.
- :func:`ignore_cfn_lint`: a cfn-lint rule on one resource (``cfn-lint: config: ignore_checks``).

Nothing here acknowledges a whole stack, stage or app: the scope must be below a stack, and cdk-nag 3.x
matches finding IDs exactly, so ``AwsSolutions-IAM5[Action::s3:*]`` covers that one action and nothing else.

Internal paths are resolved when the app is validated, just before the templates are written, because
CDK creates some internal resources (the cross-region export reader and writer) only then. A path that
matches nothing fails the synthesis: a stale acknowledgment never lingers silently.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jsii
from aws_cdk import Acknowledgment, CfnResource, Stack, Stage, Validations
from constructs import IConstruct, IValidation

PACK_PREFIXES = ("AwsSolutions-", "NIST.800.53.R5-")
"""The rule ID prefixes of the packs registered in :mod:`compliance.registration`."""

ANNOTATION_PREFIX = "Annotation::"
"""CDK's own construct annotations (warnings such as ``@aws-cdk/aws-ec2:ipv4IgnoreEgressRule``)."""

PER_FINDING_RULES = ("AwsSolutions-IAM4", "AwsSolutions-IAM5")
"""Rules that report one finding per policy, action or resource: each must be acknowledged as
``Rule[Finding]``, never as the bare rule."""

MIN_REASON_LENGTH = 30
"""A reason must say why the finding is acceptable here, which takes more than a few words."""

CHECKOV_METADATA_KEY = "checkov"
CFN_LINT_METADATA_KEY = "cfn-lint"
CFN_LINT_REASONS_METADATA_KEY = "cfn-lint-reasons"
"""Our own metadata key beside cfn-lint's, so the report can show why a rule is ignored."""


class AcknowledgmentError(ValueError):
    """An acknowledgment that would hide more than one finding on one resource, or explain nothing."""


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge the finding ``rule_id`` on ``scope`` (a resource or the L2 construct that wraps it)."""
    _check(scope, rule_id, reason)
    if _recorder is not None:
        _recorder.append(RecordedAcknowledgment(scope.node.path, rule_id, reason))
        return
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


@dataclass(frozen=True)
class RecordedAcknowledgment:
    path: str
    rule_id: str
    reason: str


_recorder: list[RecordedAcknowledgment] | None = None


@contextmanager
def recording() -> Iterator[list[RecordedAcknowledgment]]:
    """While active, :func:`acknowledge` records instead of acknowledging, so that cdk-nag reports every
    finding. The compliance tests use it to prove that each acknowledgment matches a real finding (none
    is stale) and that every finding is acknowledged on the construct the acknowledgment names."""
    global _recorder
    previous, _recorder = _recorder, []
    try:
        yield _recorder
    finally:
        _recorder = previous


def acknowledge_internal(scope: IConstruct, path: str, rule_id: str, reason: str) -> None:
    """Acknowledge ``rule_id`` on the construct at ``path`` below ``scope`` (usually ``Stack.of(self)``)."""
    _check_reason(rule_id, reason)
    _when_found(scope, path, lambda target: acknowledge(target, rule_id, reason))


def skip_checkov(resource: IConstruct, check_id: str, comment: str) -> None:
    """Record in the resource's template metadata that checkov's ``check_id`` does not apply, and why."""
    _check_reason(check_id, comment)
    if not check_id.startswith(("CKV_", "CKV2_")):
        raise AcknowledgmentError(f"{check_id!r} is not a checkov check ID (CKV_... or CKV2_...)")
    cfn = _cfn_resource(resource)
    metadata = cfn.get_metadata(CHECKOV_METADATA_KEY) or {"skip": []}
    skips: list[dict[str, str]] = list(metadata.get("skip", []))
    if all(skip["id"] != check_id for skip in skips):
        skips.append({"id": check_id, "comment": comment})
    cfn.add_metadata(CHECKOV_METADATA_KEY, {**metadata, "skip": skips})


def skip_checkov_internal(scope: IConstruct, path: str, check_id: str, comment: str) -> None:
    """:func:`skip_checkov` on the resource CDK creates at ``path`` below ``scope``."""
    _check_reason(check_id, comment)
    _when_found(scope, path, lambda target: skip_checkov(target, check_id, comment))


def ignore_cfn_lint(resource: IConstruct, rule_id: str, reason: str) -> None:
    """Ignore cfn-lint's ``rule_id`` on this one resource (only for CDK-generated properties)."""
    _check_reason(rule_id, reason)
    cfn = _cfn_resource(resource)
    config = cfn.get_metadata(CFN_LINT_METADATA_KEY) or {"config": {"ignore_checks": []}}
    ignored = list(config["config"].get("ignore_checks", []))
    if rule_id not in ignored:
        ignored.append(rule_id)
    cfn.add_metadata(CFN_LINT_METADATA_KEY, {"config": {**config["config"], "ignore_checks": ignored}})
    reasons = cfn.get_metadata(CFN_LINT_REASONS_METADATA_KEY) or {}
    cfn.add_metadata(CFN_LINT_REASONS_METADATA_KEY, {**reasons, rule_id: reason})


def wildcard_resource_finding(scope: IConstruct, resource: str) -> str:
    """The ID of AwsSolutions-IAM5's finding for the wildcard ``resource`` (an ARN, tokens allowed) in a
    policy of ``scope``'s stack, written the way cdk-nag writes it: references flattened to
    ``<LogicalId>`` and ``<LogicalId.Attribute>``, so acknowledgments never hard-code accounts or IDs."""
    return f"AwsSolutions-IAM5[Resource::{_flatten(Stack.of(scope).resolve(resource))}]"


def _flatten(node: Any) -> str:
    """cdk-nag's ``flattenCfnReference``."""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict) and "Fn::Join" in node:
        delimiter, items = node["Fn::Join"]
        return str(delimiter).join(_flatten(item) for item in items)
    if isinstance(node, dict) and "Fn::Sub" in node:
        return _flatten(node["Fn::Sub"])
    if isinstance(node, dict) and "Fn::GetAtt" in node:
        resource, attribute = node["Fn::GetAtt"]
        return f"<{_flatten(resource)}.{_flatten(attribute)}>"
    if isinstance(node, dict) and "Fn::ImportValue" in node:
        return _flatten(node["Fn::ImportValue"])
    if isinstance(node, dict) and "Ref" in node:
        return f"<{_flatten(node['Ref'])}>"
    raise AcknowledgmentError(f"cannot flatten {node!r} the way cdk-nag does")


def _check(scope: IConstruct, rule_id: str, reason: str) -> None:
    _check_reason(rule_id, reason)
    if isinstance(scope, (Stage, Stack)):  # what jsii hands back is typed, so no round trip is needed
        raise AcknowledgmentError(
            f"{rule_id} acknowledged on {scope.node.path or 'the app'}: acknowledge it on the one resource "
            "it is about, never on a whole stack, stage or app"
        )
    if not rule_id.startswith((*PACK_PREFIXES, ANNOTATION_PREFIX)):
        raise AcknowledgmentError(
            f"{rule_id!r} is not a rule of the registered packs ({', '.join(PACK_PREFIXES)}) "
            f"nor a CDK annotation ({ANNOTATION_PREFIX}...)"
        )
    if rule_id in PER_FINDING_RULES:
        raise AcknowledgmentError(
            f"{rule_id} reports one finding per policy, action or resource: acknowledge the one finding, "
            f"e.g. {rule_id}[Action::s3:GetObject*]"
        )


def _check_reason(rule_id: str, reason: str) -> None:
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise AcknowledgmentError(
            f"{rule_id}: the reason must explain why this is acceptable here, got {reason!r}"
        )


def _cfn_resource(construct: IConstruct) -> CfnResource:
    """The construct itself when it is a CloudFormation resource, else its default child."""
    if CfnResource.is_cfn_resource(construct):
        return construct  # type: ignore[return-value]
    child = construct.node.default_child
    if child is None or not CfnResource.is_cfn_resource(child):
        raise AcknowledgmentError(f"{construct.node.path} is not a CloudFormation resource nor wraps one")
    return child  # type: ignore[return-value]


def _find(scope: IConstruct, path: str) -> IConstruct | None:
    node: IConstruct | None = scope
    for part in path.split("/"):
        node = node.node.try_find_child(part) if node is not None else None
    return node


@jsii.implements(IValidation)
class _WhenFound:
    """Applies ``action`` to the construct at ``path`` once it exists: now, or when the app is validated
    (after CDK has added the resources it creates while preparing the app, before templates are written)."""

    def __init__(self, scope: IConstruct, path: str, action: Callable[[IConstruct], Any]) -> None:
        self._scope = scope
        self._path = path
        self._action = action
        self._done = False

    def apply(self) -> bool:
        if not self._done and (target := _find(self._scope, self._path)) is not None:
            self._action(target)
            self._done = True
        return self._done

    def validate(self) -> list[str]:
        if self.apply():
            return []
        return [
            f"compliance: no construct at {self._path!r} below {self._scope.node.path}: the acknowledgment "
            "or checkov skip for it is stale; remove it or fix the path"
        ]


def _when_found(scope: IConstruct, path: str, action: Callable[[IConstruct], Any]) -> None:
    deferred = _WhenFound(scope, path, action)
    if not deferred.apply():
        scope.node.add_validation(deferred)
