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
    """Every stack template of a cloud assembly, nested stage assemblies included."""
    templates = []
    for stack in assembly.stacks:
        account, _, region = stack.environment.partition("/")
        body = json.loads(stack.template_file.read_text())
        templates.append(StackTemplate(stack.path, account, region, body, stack.template_file.parent))
    return templates


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


def mentions(value: Json, needle: str) -> bool:
    """Whether ``needle`` occurs anywhere in a template fragment (keys, strings, references)."""
    return needle in json.dumps(value)


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
