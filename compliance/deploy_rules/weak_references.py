"""A weak cross-stack reference (``Fn::GetStackOutput``) remains only where its value cannot change."""

from collections.abc import Callable, Iterator, Sequence

from compliance.deploy_rules.model import (
    DeployRule,
    Json,
    StackTemplate,
    Violation,
    referenced_id,
    stack_output_source,
    walk,
)


def _web_acl(resource: dict[str, Json]) -> list[str]:
    properties = resource.get("Properties", {})
    problems = []
    if "Name" in properties:
        problems.append("sets Name, so renaming it replaces it (and changes its ARN)")
    if properties.get("Scope") != "CLOUDFRONT":
        problems.append("has a Scope other than CLOUDFRONT, the only one a distribution takes")
    return problems


STABLE_WHEN: dict[str, Callable[[dict[str, Json]], list[str]]] = {"AWS::WAFv2::WebACL": _web_acl}
"""Resource types a weak reference may read, and what keeps their referenced values fixed: a web ACL is
replaced (new ARN) only when its Name or Scope changes or its logical ID does (the last is pinned by
tests/deploy/test_weak_references.py)."""


def _problems(template: StackTemplate, templates: Sequence[StackTemplate], node: Json) -> Iterator[str]:
    reference = node["Fn::GetStackOutput"]
    described = f"Fn::GetStackOutput {reference.get('StackName')}.{reference.get('OutputName')}"
    if reference.get("Region", template.region) == template.region:
        yield (
            f"{described}: a weak reference within {template.region}; make its producer strong "
            "(moodle_infra/reference_strength.py) so that CloudFormation refuses to change a value in use"
        )
        return
    source = stack_output_source(templates, template, node)
    logical_id = referenced_id(source[1]) if source else None
    resource = source[0].resource(logical_id) if source and logical_id else None
    if resource is None:
        yield f"{described}: does not read a resource of a synthesized stack"
        return
    check = STABLE_WHEN.get(resource.get("Type", ""))
    if check is None:
        yield f"{described}: reads a {resource.get('Type')}, which has no evidence that its value stays fixed"
        return
    for problem in check(resource):
        yield f"{described}: {logical_id} {problem}"


def check(templates: Sequence[StackTemplate]) -> Iterator[Violation]:
    """``Fn::GetStackOutput`` resolves when the reading stack deploys, and nothing ties the two stacks
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getstackoutput.html):
    when the producer replaces the resource, a reader whose template did not change is not updated and
    keeps the old value. An export imported by another stack cannot be changed
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html), so a
    replacement fails loudly instead. Within a Region every reference must therefore be strong; a
    cross-Region one (which CloudFormation exports cannot serve) may stay weak only when it reads a
    resource whose value cannot change: a CloudFront web ACL without a Name, since Name and Scope are
    its only properties whose change replaces it
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-wafv2-webacl.html)."""
    for template in templates:
        for node in walk(template.body):
            if isinstance(node.get("Fn::GetStackOutput"), dict):
                for problem in _problems(template, templates, node):
                    yield Violation(template.path, "-", problem)


RULE = DeployRule(
    "weak-references", "Weak cross-stack references only where the value they read cannot change", check
)
