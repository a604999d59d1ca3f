"""What a deploy-time rule reads (every synthesized template, with its account and region) and reports.

cdk-nag, cfn-lint and checkov look at one resource or one template at a time and check what it says.
A deploy-time rule checks what AWS will do with it: whether the service that uses a key may use it,
whether a retry can create a named resource again, whether two timeouts agree. Many of these need more
than one template (a VPC origin in one stack, its VPC in another), so every rule sees them all.
"""

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.assembly import Assembly

Json = Any
"""A piece of a CloudFormation template: dicts, lists and scalars as ``json.loads`` returns them."""


@dataclass(frozen=True)
class StackTemplate:
    path: str
    """Construct path of the stack (``MoodlePipeline/Prod/Audit``), or a fixture's name."""
    account: str
    region: str
    body: dict[str, Json]
    directory: Path | None = None
    """Where the template's side files are (CodeBuild buildspec files of CDK Pipelines), if on disk."""
    stack_name: str = ""
    """The CloudFormation stack name (``Prod-Audit``), as cross-stack references name it."""
    depends_on: tuple[str, ...] = ()
    """Paths of the stacks deployed before this one (and deleted after it)."""

    def resources(self, *types: str) -> Iterator[tuple[str, dict[str, Json]]]:
        """``(logical ID, resource)`` of every resource of the given types (all, without types)."""
        for logical_id, resource in (self.body.get("Resources") or {}).items():
            if not types or resource.get("Type") in types:
                yield logical_id, resource

    def resource(self, logical_id: str) -> dict[str, Json] | None:
        found: dict[str, Json] | None = (self.body.get("Resources") or {}).get(logical_id)
        return found


@dataclass(frozen=True)
class Violation:
    stack: str
    resource: str
    """Logical ID (or ``-`` for the stack as a whole)."""
    message: str

    def __str__(self) -> str:
        return f"{self.stack} {self.resource}: {self.message}"


Check = Callable[[Sequence[StackTemplate]], Iterable[Violation]]


@dataclass(frozen=True)
class DeployRule:
    """One deploy-time requirement; ``check``'s docstring says what and cites AWS's documentation."""

    rule_id: str
    title: str
    check: Check

    @property
    def description(self) -> str:
        return " ".join((self.check.__doc__ or "").split())

    @property
    def documentation(self) -> tuple[str, ...]:
        """The AWS documentation pages the docstring cites."""
        return tuple(url.rstrip(".") for url in re.findall(r"https://[^\s),;]+", self.check.__doc__ or ""))

    def violations(self, templates: Sequence[StackTemplate]) -> list[Violation]:
        return list(self.check(templates))


def templates_of_assembly(assembly: Assembly) -> list[StackTemplate]:
    """Every stack template of a cloud assembly, nested stage assemblies included, with the stack names
    and dependencies of the manifests."""
    names, dependencies = _manifest_stacks(assembly.directory)
    templates = []
    for stack in assembly.stacks:
        account, _, region = stack.environment.partition("/")
        body = json.loads(stack.template_file.read_text())
        templates.append(
            StackTemplate(
                stack.path,
                account,
                region,
                body,
                stack.template_file.parent,
                names.get(stack.path, stack.path),
                dependencies.get(stack.path, ()),
            )
        )
    return templates


def _manifest_stacks(directory: Path) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """Stack path -> stack name, and stack path -> paths of the stacks it depends on."""
    names: dict[str, str] = {}
    raw: dict[str, list[str]] = {}
    paths: dict[str, str] = {}
    manifests = [directory]
    while manifests:
        current = manifests.pop()
        artifacts = json.loads((current / "manifest.json").read_text()).get("artifacts", {})
        for artifact_id, artifact in artifacts.items():
            properties = artifact.get("properties", {})
            if artifact["type"] == "cdk:cloud-assembly":
                manifests.append(current / properties["directoryName"])
            elif artifact["type"] == "aws:cloudformation:stack":
                path = artifact.get("displayName", artifact_id)
                names[path] = properties.get("stackName", artifact_id)
                paths[artifact_id] = path
                raw[path] = list(artifact.get("dependencies", []))
    dependencies = {path: tuple(paths[d] for d in found if d in paths) for path, found in raw.items()}
    return names, dependencies


def referenced_id(value: Json) -> str | None:
    """The logical ID behind ``{"Ref": X}`` or ``{"Fn::GetAtt": [X, attribute]}``, else None."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            return str(value["Ref"])
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute:
            return str(attribute[0])
        if isinstance(attribute, str):
            return attribute.split(".", 1)[0]
    return None


def as_list(value: Json) -> list[Json]:
    return value if isinstance(value, list) else [value]


def literal(value: Json) -> str | None:
    """A plain string, or a ``Fn::Join`` of plain strings and the partition/region/account pseudo
    parameters (rendered as placeholders); None if it depends on anything a deploy decides."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        rendered = []
        for part in parts:
            if isinstance(part, dict) and part.get("Ref") in PSEUDO_PLACEHOLDERS:
                rendered.append(PSEUDO_PLACEHOLDERS[part["Ref"]])
                continue
            text = literal(part)
            if text is None:
                return None
            rendered.append(text)
        return str(separator).join(rendered)
    return None


PSEUDO_PLACEHOLDERS = {
    "AWS::Partition": "aws",
    "AWS::Region": "${AWS::Region}",
    "AWS::AccountId": "${AWS::AccountId}",
    "AWS::URLSuffix": "amazonaws.com",
}
"""Pseudo parameters that are fixed for a stack, so a name built from them is as fixed as a literal."""


def statements(policy_document: Json) -> list[dict[str, Json]]:
    if not isinstance(policy_document, dict):
        return []
    return [statement for statement in as_list(policy_document.get("Statement", [])) if statement]


def service_principals(statement: dict[str, Json]) -> list[str]:
    principal = statement.get("Principal") or {}
    if not isinstance(principal, dict):
        return []
    services = []
    for service in as_list(principal.get("Service", [])):
        rendered = literal(service)
        if rendered is not None:
            services.append(rendered)
    return services


def allows(statement: dict[str, Json], action: str) -> bool:
    """Whether an Allow statement's actions cover ``action`` (``kms:*`` and ``kms:GenerateDataKey*``
    patterns included)."""
    if statement.get("Effect") != "Allow":
        return False
    for pattern in as_list(statement.get("Action", [])):
        if not isinstance(pattern, str):
            continue
        if pattern == "*" or pattern.lower() == action.lower():
            return True
        if pattern.endswith("*") and action.lower().startswith(pattern[:-1].lower()):
            return True
    return False


def stack_output_source(
    templates: Sequence[StackTemplate], consumer: StackTemplate, value: Json
) -> tuple[StackTemplate, Json] | None:
    """For ``{"Fn::GetStackOutput": {...}}`` (or ``{"Fn::ImportValue": name}``): the producing template
    (same account, the given or the consumer's region) and the output's Value; None if it is not such a
    reference or names no synthesized stack."""
    if isinstance(value, dict) and isinstance(value.get("Fn::ImportValue"), str):
        for producer in templates:
            if (producer.account, producer.region) != (consumer.account, consumer.region):
                continue
            for output in (producer.body.get("Outputs") or {}).values():
                if (output.get("Export") or {}).get("Name") == value["Fn::ImportValue"]:
                    return producer, output.get("Value")
        return None
    if not isinstance(value, dict) or "Fn::GetStackOutput" not in value:
        return None
    reference = value["Fn::GetStackOutput"]
    region = reference.get("Region", consumer.region)
    for producer in templates:
        if (producer.stack_name, producer.account, producer.region) == (
            reference.get("StackName"),
            consumer.account,
            region,
        ):
            output = (producer.body.get("Outputs") or {}).get(reference.get("OutputName"))
            return (producer, output.get("Value")) if output else None
    return None


def resolve(
    templates: Sequence[StackTemplate], template: StackTemplate, value: Json
) -> tuple[StackTemplate, str] | None:
    """The template and logical ID a value refers to: a Ref or GetAtt in the same template, or one
    behind a cross-stack Fn::GetStackOutput."""
    source = stack_output_source(templates, template, value)
    if source is not None:
        template, value = source
    logical_id = referenced_id(value)
    if logical_id is None or template.resource(logical_id) is None:
        return None
    return template, logical_id


def walk(value: Json) -> Iterator[dict[str, Json]]:
    """Every dict inside a template fragment, the fragment itself included."""
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner)


def direct_dependencies(template: StackTemplate, logical_id: str) -> set[str]:
    """What CloudFormation creates before ``logical_id`` (and deletes after it): its DependsOn and
    every resource its properties reference (Ref, Fn::GetAtt, ${...} in Fn::Sub)."""
    resource = template.resource(logical_id) or {}
    found = set(as_list(resource.get("DependsOn", [])))
    for node in walk(resource.get("Properties")):
        target = referenced_id(node)
        if target is not None:
            found.add(target)
        sub = node.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) else sub
        if isinstance(text, str):
            found.update(name.split(".", 1)[0] for name in re.findall(r"\$\{([^}!]+)\}", text))
    return {target for target in found if template.resource(target) is not None}


def all_dependencies(template: StackTemplate, logical_id: str) -> set[str]:
    """The transitive closure of :func:`direct_dependencies`."""
    seen: set[str] = set()
    pending = [logical_id]
    while pending:
        for target in direct_dependencies(template, pending.pop()):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")


def role_policies(template: StackTemplate, role: str) -> list[str]:
    """Policies of the template that attach themselves to ``role`` (inline ``Policies`` of the role
    itself live and die with it)."""
    attached = []
    for logical_id, policy in template.resources(*POLICY_TYPES):
        properties = policy.get("Properties", {})
        roles = as_list(properties.get("Roles", [])) + as_list(properties.get("RoleName", []))
        if any(referenced_id(entry) == role for entry in roles):
            attached.append(logical_id)
    return attached


def role_allows(template: StackTemplate, role: str | None, action: str) -> bool:
    """Whether a role of the template is allowed ``action`` by its inline, attached or managed policies."""
    if role is None:
        return False
    properties = (template.resource(role) or {}).get("Properties", {})
    documents = [policy.get("PolicyDocument") for policy in properties.get("Policies", [])]
    attached = role_policies(template, role)
    attached += [policy for arn in properties.get("ManagedPolicyArns", []) if (policy := referenced_id(arn))]
    documents += [
        (template.resource(policy) or {}).get("Properties", {}).get("PolicyDocument") for policy in attached
    ]
    return any(allows(statement, action) for document in documents for statement in statements(document))
