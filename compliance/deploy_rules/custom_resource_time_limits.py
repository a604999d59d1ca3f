"""No custom resource works longer than CloudFormation waits for it; a wait condition waits 12 h at most."""

import json
import re
from collections.abc import Iterator, Sequence

from compliance.deploy_rules.custom_resource_teardown import handler_lambdas
from compliance.deploy_rules.model import DeployRule, Json, StackTemplate, Violation, referenced_id

SERVICE_TIMEOUT_LIMIT = 3600
"""ServiceTimeout: an integer from 1 to 3600 seconds, 3600 when absent."""
WAIT_CONDITION_LIMIT = 43200
LAMBDA_DEFAULT_TIMEOUT = 3
RETRY = re.compile(r'"IntervalSeconds":(\d+),"MaxAttempts":(\d+),"BackoffRate":([\d.]+)')


def _custom_resources(template: StackTemplate) -> Iterator[tuple[str, dict[str, Json]]]:
    for logical_id, resource in template.resources():
        kind = str(resource.get("Type", ""))
        if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
            yield logical_id, resource


def _literal(definition: Json) -> str:
    """A state machine definition with its references left out: enough to read its retry policies."""
    if isinstance(definition, dict) and "Fn::Join" in definition:
        return "".join(part for part in definition["Fn::Join"][1] if isinstance(part, str))
    return definition if isinstance(definition, str) else json.dumps(definition)


def waiter_seconds(template: StackTemplate, function_id: str) -> int:
    """How long a provider framework's waiter state machine (named in the function's environment) may
    poll: the sum of its retry intervals, with their backoff."""
    function = template.resource(function_id) or {}
    variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
    total = 0
    for value in variables.values():
        machine = template.resource(referenced_id(value) or "") or {}
        if machine.get("Type") != "AWS::StepFunctions::StateMachine":
            continue
        for interval, attempts, backoff in RETRY.findall(_literal(machine["Properties"]["DefinitionString"])):
            total += int(sum(int(interval) * float(backoff) ** n for n in range(int(attempts))))
    return total


def _timeout(template: StackTemplate, function: str) -> int:
    properties = (template.resource(function) or {}).get("Properties", {})
    return int(properties.get("Timeout", LAMBDA_DEFAULT_TIMEOUT))


def _service_timeout(resource: dict[str, Json]) -> int | None:
    value = resource.get("Properties", {}).get("ServiceTimeout", SERVICE_TIMEOUT_LIMIT)
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return None
    return seconds if 1 <= seconds <= SERVICE_TIMEOUT_LIMIT else None


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """CloudFormation waits at most ServiceTimeout for a custom resource's answer, an integer from 1 to
    3,600 seconds, 3,600 when absent
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-customresource.html),
    then fails it and rolls the stack back while its handler may still be working. So every custom
    resource's ServiceTimeout is within that range, no Lambda behind it may run longer, and a provider
    framework's waiter (its retries, interval times attempts) plus the function that starts it fits
    inside it: work that may take longer belongs behind a wait condition. A wait condition waits at most
    43,200 seconds (12 hours) and must have a handle of its own: a handle signalled before counts its old
    signals again
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-waitcondition.html,
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-waitconditionhandle.html)."""
    for template in templates:
        for logical_id, resource in _custom_resources(template):
            limit = _service_timeout(resource)
            if limit is None:
                yield Violation(
                    template.path,
                    logical_id,
                    f"ServiceTimeout {resource['Properties'].get('ServiceTimeout')!r} is not an integer "
                    f"from 1 to {SERVICE_TIMEOUT_LIMIT}",
                )
                continue
            functions = handler_lambdas(template, logical_id)
            for function in functions:
                timeout = _timeout(template, function)
                if timeout > limit:
                    yield Violation(
                        template.path,
                        logical_id,
                        f"its handler {function} may run {timeout} s, longer than CloudFormation waits "
                        f"for it ({limit} s)",
                    )
            if functions and (polling := waiter_seconds(template, functions[0])):
                start = _timeout(template, functions[0])
                if start + polling > limit:
                    yield Violation(
                        template.path,
                        logical_id,
                        f"its provider may work {start} s and then poll for {polling} s, longer than "
                        f"CloudFormation waits for it ({limit} s)",
                    )
        handles: dict[str, str] = {}
        for logical_id, condition in template.resources("AWS::CloudFormation::WaitCondition"):
            properties = condition.get("Properties", {})
            timeout = properties.get("Timeout")
            if not str(timeout).isdigit() or not 1 <= int(timeout) <= WAIT_CONDITION_LIMIT:
                yield Violation(
                    template.path,
                    logical_id,
                    f"Timeout {timeout!r} is not a number of seconds from 1 to {WAIT_CONDITION_LIMIT}",
                )
            handle = referenced_id(properties.get("Handle"))
            if handle is None or (template.resource(handle) or {}).get("Type") != (
                "AWS::CloudFormation::WaitConditionHandle"
            ):
                yield Violation(
                    template.path, logical_id, "its Handle is not a Ref to a wait condition handle"
                )
            elif handle in handles:
                yield Violation(
                    template.path, logical_id, f"shares its handle {handle} with {handles[handle]}"
                )
            else:
                handles[handle] = logical_id


RULE = DeployRule(
    "custom-resource-time-limits",
    "Custom resources finish within CloudFormation's limit; longer work waits on a wait condition",
    check,
)
