"""Scheduled EventBridge rules are ones EventBridge accepts, and can start what they target."""

from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import DeployRule, Json, StackTemplate, Violation
from moodle_infra import schedule_expression

MAX_TARGETS = 5
ROLE_REQUIRED = ("codepipeline", "codebuild", "ecs", "states")
"""Target services EventBridge invokes only with a role (RoleArn) it passes."""


def _service_of(arn: Json) -> str | None:
    """The service of an ARN, or of an ``Fn::GetAtt``/``Fn::Join`` that builds one (``arn:...:service:``)."""
    if isinstance(arn, str):
        parts = arn.split(":")
        return parts[2] if len(parts) > 2 else None
    if isinstance(arn, dict) and "Fn::Join" in arn:
        pieces = [piece for piece in arn["Fn::Join"][1] if isinstance(piece, str)]
        joined = "".join(pieces)
        for service in ROLE_REQUIRED:
            if f":{service}:" in joined:
                return service
    return None


def _problems(rule: dict[str, Json]) -> Iterator[str]:
    expression = rule.get("ScheduleExpression")
    if expression is None:
        return
    problem = schedule_expression.problem(expression)
    if problem:
        yield f"schedule {expression!r}: {problem}"
    if rule.get("EventBusName") not in (None, "default"):
        yield "a scheduled rule must be on the default event bus"
    targets = rule.get("Targets") or []
    if len(targets) > MAX_TARGETS:
        yield f"has {len(targets)} targets; at most {MAX_TARGETS}"
    for target in targets:
        service = _service_of(target.get("Arn"))
        if service in ROLE_REQUIRED and not target.get("RoleArn"):
            yield f"target {target.get('Id')!r} ({service}) has no RoleArn for EventBridge to start it with"


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """EventBridge refuses a ``ScheduleExpression`` that is not ``rate(...)`` or a six-field ``cron(...)``
    with ``?`` in exactly one day field, takes scheduled rules only on the default bus and at most 5
    targets a rule, and starts a pipeline, build, task or state machine only with a role
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html,
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html)."""
    for template in templates:
        for rule_id, rule in template.resources("AWS::Events::Rule"):
            for problem in _problems(rule.get("Properties", {})):
                yield Violation(template.path, rule_id, problem)


RULE = DeployRule(
    "event-schedules", "Scheduled EventBridge rules are valid and can start their targets", check
)
