"""What a synthesized cloud assembly (``cdk.out``) says about compliance, read without running CDK.

- Stacks: ``manifest.json``, recursing into the nested assemblies of stages (``assembly-*``).
- Resources and their L1 classes: ``tree.json`` (``aws:cdk:cloudformation:type`` and the construct FQN).
- Acknowledged findings: the ``aws:cdk:acknowledged-rules`` entries that ``Validations.acknowledge``
  records in construct metadata, which CDK copies into each stack's ``<stack>.metadata.json``.
- Unacknowledged findings: ``validation-report.json``, which CDK writes when a validation plugin fails.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACKNOWLEDGED_RULES_METADATA_TYPE = "aws:cdk:acknowledged-rules"
"""``Validations.ACKNOWLEDGED_RULES_METADATA_KEY`` of aws-cdk-lib (a constant, read here without jsii)."""

NAG_RULE_PREFIXES = ("AwsSolutions-", "NIST.800.53.R5-")

ANNOTATION_NAMESPACE = "Annotation::"
"""CDK stores every acknowledged ID with a namespace; cdk-nag's rule IDs land in this one."""


@dataclass(frozen=True)
class Resource:
    path: str
    """Construct path, e.g. ``MoodlePipeline/Dev/Data/Database/Instance/Resource``."""
    logical_id: str
    cfn_type: str
    fqn: str
    """jsii FQN of the L1 class, e.g. ``aws-cdk-lib.aws_rds.CfnDBInstance``."""


@dataclass(frozen=True)
class Acknowledgment:
    path: str
    """The construct the acknowledgment was recorded on (it covers the resources below it)."""
    rule_id: str
    reason: str


@dataclass(frozen=True)
class Finding:
    """An unacknowledged finding from the validation report."""

    pack: str
    rule_id: str
    severity: str
    description: str
    path: str


@dataclass
class StackInfo:
    path: str
    """Construct path of the stack, e.g. ``MoodlePipeline/Dev/Data``."""
    environment: str
    """``account/region``."""
    template_file: Path
    resources: list[Resource] = field(default_factory=list)
    acknowledgments: list[Acknowledgment] = field(default_factory=list)

    @property
    def stage(self) -> str:
        """The stage the stack belongs to (``MoodlePipeline/Dev``, ``Sandbox``), or the stack itself."""
        parent, _, _ = self.path.rpartition("/")
        return parent or self.path

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    def relative(self, path: str) -> str:
        """``path`` below this stack."""
        return path.removeprefix(self.path + "/")

    def contains(self, path: str) -> bool:
        return path == self.path or path.startswith(self.path + "/")


@dataclass
class Assembly:
    directory: Path
    stacks: list[StackInfo]
    findings: list[Finding]
    """Unacknowledged cdk-nag findings (and any other failed validation), empty when synthesis passed."""
    validation_report_present: bool

    def stack_of(self, path: str) -> StackInfo | None:
        matching = [stack for stack in self.stacks if stack.contains(path)]
        return max(matching, key=lambda stack: len(stack.path)) if matching else None


def read_assembly(directory: Path) -> Assembly:
    stacks = list(_stacks(directory))
    tree_file = directory / "tree.json"
    if tree_file.exists():
        resources = list(_resources(json.loads(tree_file.read_text())["tree"]))
        for resource in resources:
            if (stack := _deepest(stacks, resource.path)) is not None:
                stack.resources.append(resource)
    report_file = directory / "validation-report.json"
    findings = list(_findings(json.loads(report_file.read_text()))) if report_file.exists() else []
    return Assembly(directory, stacks, findings, report_file.exists())


def _deepest(stacks: list[StackInfo], path: str) -> StackInfo | None:
    matching = [stack for stack in stacks if stack.contains(path)]
    return max(matching, key=lambda stack: len(stack.path)) if matching else None


def _stacks(directory: Path) -> Iterator[StackInfo]:
    manifest = json.loads((directory / "manifest.json").read_text())
    for artifact_id, artifact in sorted(manifest.get("artifacts", {}).items()):
        properties = artifact.get("properties", {})
        if artifact["type"] == "aws:cloudformation:stack":
            stack = StackInfo(
                path=artifact.get("displayName", artifact_id),
                environment=artifact["environment"].removeprefix("aws://"),
                template_file=directory / properties["templateFile"],
            )
            stack.acknowledgments = list(_acknowledgments(directory, artifact))
            yield stack
        elif artifact["type"] == "cdk:cloud-assembly":
            yield from _stacks(directory / properties["directoryName"])


def _acknowledgments(directory: Path, artifact: dict[str, Any]) -> Iterator[Acknowledgment]:
    metadata: dict[str, list[dict[str, Any]]] = dict(artifact.get("metadata", {}))
    if (extra := artifact.get("additionalMetadataFile")) is not None:
        metadata |= json.loads((directory / extra).read_text())
    seen: set[tuple[str, str]] = set()
    for path, entries in sorted(metadata.items()):
        for entry in entries:
            if entry.get("type") != ACKNOWLEDGED_RULES_METADATA_TYPE:
                continue
            for qualified_id, reason in entry.get("data", {}).items():
                rule_id = _unqualified(qualified_id)
                key = (path.removeprefix("/"), rule_id)
                if key not in seen:
                    seen.add(key)
                    yield Acknowledgment(path=key[0], rule_id=rule_id, reason=str(reason))


def _unqualified(qualified_id: str) -> str:
    """cdk-nag rule IDs without the namespace CDK records them under (``Annotation::`` for plain IDs,
    or the plugin's name); CDK's own annotation IDs keep their ``Annotation::`` prefix."""
    namespace, separator, rule_id = qualified_id.partition("::")
    if not separator or "[" in namespace:
        namespace, rule_id = "", qualified_id
    if rule_id.startswith(NAG_RULE_PREFIXES):
        return rule_id
    return ANNOTATION_NAMESPACE + rule_id if namespace.lower() in ("annotation", "") else qualified_id


def _resources(node: dict[str, Any]) -> Iterator[Resource]:
    attributes = node.get("attributes") or {}
    if "aws:cdk:cloudformation:type" in attributes:
        yield Resource(
            path=node["path"],
            logical_id=str(attributes.get("aws:cdk:cloudformation:logicalId", "")),
            cfn_type=attributes["aws:cdk:cloudformation:type"],
            fqn=(node.get("constructInfo") or {}).get("fqn", ""),
        )
    for child in (node.get("children") or {}).values():
        yield from _resources(child)


def _findings(report: dict[str, Any]) -> Iterator[Finding]:
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            constructs = violation.get("violatingConstructs") or violation.get("violatingResources") or []
            for construct in constructs:
                yield Finding(
                    pack=plugin.get("pluginName", ""),
                    rule_id=violation["ruleName"],
                    severity=violation.get("severity", ""),
                    description=violation.get("description", ""),
                    path=construct.get("constructPath") or construct.get("resourceLogicalId", ""),
                )
