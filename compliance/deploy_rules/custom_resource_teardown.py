"""A custom resource's handler keeps its permissions until the custom resource is deleted."""

from collections.abc import Iterator, Sequence

from compliance.deploy_rules.model import (
    DeployRule,
    StackTemplate,
    Violation,
    all_dependencies,
    referenced_id,
    role_policies,
)


def handler_lambdas(template: StackTemplate, custom_resource: str) -> list[str]:
    """The Lambda behind the ServiceToken, and the Lambdas it invokes (a provider framework names its
    user functions in its environment), all in the same template."""
    resource = template.resource(custom_resource) or {}
    first = referenced_id(resource.get("Properties", {}).get("ServiceToken"))
    found: list[str] = []
    pending = [first] if first else []
    while pending:
        current = pending.pop()
        function = template.resource(current) or {}
        if function.get("Type") != "AWS::Lambda::Function" or current in found:
            continue
        found.append(current)
        variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
        pending += [target for value in variables.values() if (target := referenced_id(value))]
    return found


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """When a stack is deleted, CloudFormation deletes resources in reverse dependency order and calls
    each custom resource's handler with a Delete event
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-delete.html).
    If the handler's IAM policy does not come before the custom resource in that order, CloudFormation
    may delete the policy first; the handler then fails with AccessDenied and the stack stops in
    DELETE_FAILED (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html,
    "when a DependsOn attribute is required"). So every custom resource depends, directly or through
    its handler, on each policy attached to its handlers' roles."""
    for template in templates:
        custom = [
            logical_id
            for logical_id, resource in template.resources()
            if str(resource.get("Type", "")).startswith("Custom::")
            or resource.get("Type") == "AWS::CloudFormation::CustomResource"
        ]
        for logical_id in custom:
            before = all_dependencies(template, logical_id)
            for function in handler_lambdas(template, logical_id):
                role = referenced_id(template.resource(function)["Properties"].get("Role"))  # type: ignore[index]
                for policy in role_policies(template, role) if role else []:
                    if policy not in before:
                        yield Violation(
                            template.path,
                            logical_id,
                            f"does not depend on {policy} (the policy of {function}'s role): a teardown may "
                            "delete it first and the Delete call fails",
                        )


RULE = DeployRule(
    "custom-resource-teardown", "Custom resource handlers keep their permissions until deleted", check
)
