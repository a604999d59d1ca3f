"""The compliance report for reviewers (Markdown), from what :mod:`compliance.gate` collected.

Per environment and stack: the cdk-nag rules that had resources to check there, every acknowledged
finding with its resource and reason, counts per pack; then cfn-lint's and checkov's results, and
every checkov skip with its reason. Everything unresolved is listed first, under "Gate".
"""

import collections
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from compliance.assembly import Acknowledgment, Assembly, StackInfo
from compliance.deploy_report import deploy_problems, gate_row, render_deploy_rules
from compliance.deploy_rules import Violation
from compliance.nag_rules import NagRule
from compliance.tools import CheckResult, ToolResults

PACK_TITLES = {"AwsSolutions": "AWS Solutions", "NIST.800.53.R5": "NIST 800-53 rev 5"}
CDK_OWN = "CDK's own rules"
"""Construct annotations (warnings of CDK's constructs) and rules CDK acknowledges for itself."""


@dataclass(frozen=True)
class CheckovSkip:
    """A ``checkov: skip`` entry in a template's resource metadata."""

    template: str
    resource: str
    check_id: str
    comment: str


@dataclass
class GateResult:
    assembly: Assembly
    rules: dict[str, tuple[NagRule, ...]]
    """Pack -> rules (see :func:`compliance.nag_rules.pack_rules`)."""
    tools: ToolResults
    declared_skips: list[CheckovSkip] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    deploy_violations: dict[str, list[Violation]] = field(default_factory=dict)
    """Deploy-time rule ID -> its violations (:mod:`compliance.deploy_rules`)."""
    release_problems: list[str] = field(default_factory=list)
    """The configured Moodle release out of security support (:mod:`compliance.release_support`)."""

    @property
    def stale_skips(self) -> list[CheckovSkip]:
        """Skips in the templates that checkov never used: the check no longer applies there."""
        used = {(skip.template, skip.resource, skip.check_id) for skip in self.tools.skipped}
        return [
            skip for skip in self.declared_skips if (skip.template, skip.resource, skip.check_id) not in used
        ]

    @property
    def problems(self) -> list[str]:
        """Everything that fails the gate, one line each."""
        lines = [
            f"cdk-nag: {finding.rule_id} ({finding.severity}) on {finding.path}: {finding.description}"
            for finding in self.assembly.findings
        ]
        lines += [
            f"cfn-lint: {match.rule_id} ({match.level}) in {match.template} at {match.path}: {match.message}"
            for match in self.tools.lint_matches
        ]
        lines += [
            f"checkov: {check.check_id} failed on {check.resource} in {check.template}: {check.name}"
            for check in self.tools.failed
        ]
        lines += [f"checkov: cannot parse {path}" for path in self.tools.parsing_errors]
        lines += [
            f"checkov: stale skip of {skip.check_id} on {skip.resource} in {skip.template} (the check no "
            "longer applies there; remove the skip)"
            for skip in self.stale_skips
        ]
        lines += deploy_problems(self.deploy_violations)
        lines += self.release_problems
        lines += self.tools.errors
        return lines

    @property
    def passed(self) -> bool:
        return not self.problems


def pack_of(rule_id: str) -> str:
    for pack in PACK_TITLES:
        if rule_id.startswith(pack + "-"):
            return pack
    return CDK_OWN


def base_rule(rule_id: str) -> str:
    """``AwsSolutions-IAM5[Action::s3:*]`` -> ``AwsSolutions-IAM5``."""
    return rule_id.split("[", 1)[0]


def applicable_rules(stack: StackInfo, rules: Iterable[NagRule]) -> list[tuple[NagRule, int]]:
    """The rules that examine at least one resource of the stack, with how many resources each."""
    classes = collections.Counter(resource.fqn for resource in stack.resources)
    applicable = []
    for rule in rules:
        count = sum(classes[fqn] for fqn in rule.resource_classes)
        if count:
            applicable.append((rule, count))
    return applicable


def render(result: GateResult, *, sections: Sequence[str] = ()) -> str:
    """``sections``: further Markdown sections, placed right after the gate's summary."""
    out: list[str] = []
    assembly = result.assembly
    tools = result.tools
    levels = {rule.rule_id: rule.level for rules in result.rules.values() for rule in rules}
    all_acks = [ack for stack in assembly.stacks for ack in stack.acknowledgments]

    out.append("# Compliance report\n")
    out.append(
        f"Cloud assembly `{assembly.directory}`: {len(assembly.stacks)} stacks, "
        f"{sum(len(stack.resources) for stack in assembly.stacks)} resources, "
        f"{len(result.templates)} templates.\n"
    )
    out.append("## Gate\n")
    problems = result.problems
    out.append(f"**{'PASSED' if not problems else 'FAILED'}**: {len(problems)} unresolved problems.\n")
    out.extend(f"- {problem}" for problem in problems)
    if problems:
        out.append("")

    out.append("| check | scope | result |")
    out.append("|---|---|---|")
    for pack, rules in result.rules.items():
        unacknowledged = [finding for finding in assembly.findings if pack_of(finding.rule_id) == pack]
        errors = sum(1 for finding in unacknowledged if finding.severity == "error")
        acks = [ack for ack in all_acks if pack_of(ack.rule_id) == pack]
        out.append(
            f"| cdk-nag {PACK_TITLES[pack]} | {len(rules)} rules ({sum(r.level == 'WARN' for r in rules)} "
            f"warnings) on every resource | {errors} errors and {len(unacknowledged) - errors} warnings "
            f"unacknowledged; {len(acks)} acknowledged on {len({ack.path for ack in acks})} constructs |"
        )
    annotation_acks = [ack for ack in all_acks if pack_of(ack.rule_id) == CDK_OWN]
    other = [finding for finding in assembly.findings if pack_of(finding.rule_id) == CDK_OWN]
    out.append(
        f"| {CDK_OWN} | construct annotations, and what CDK acknowledges for itself | "
        f"{len(other)} unacknowledged; {len(annotation_acks)} acknowledged |"
    )
    errors = sum(1 for match in tools.lint_matches if match.level == "Error")
    out.append(
        f"| cfn-lint {tools.cfn_lint_version} | {len(result.templates)} templates | {errors} errors, "
        f"{len(tools.lint_matches) - errors} warnings ({tools.lint_seconds:.1f} s) |"
    )
    out.append(
        f"| checkov {tools.checkov_version} | {len(result.templates)} templates | {tools.passed} passed, "
        f"{len(tools.failed)} failed, {len(tools.skipped)} skipped with a reason "
        f"({tools.checkov_seconds:.1f} s) |"
    )
    out.append(gate_row(result.deploy_violations, len(result.templates)))
    out.append("")
    out.extend(sections)

    out.append("## cdk-nag, per environment and stack\n")
    out.append(
        "Every rule of both packs runs on every resource. *Rules applied* counts the rules that had "
        "resources of their kind in the stack; the rest had nothing to examine there.\n"
    )
    header = "| environment | stack | account/region | resources |"
    header += "".join(f" {PACK_TITLES[pack]}: rules applied / acknowledged |" for pack in result.rules)
    header += " unacknowledged |"
    out.append(header)
    out.append("|---" * (5 + len(result.rules)) + "|")
    for stack in assembly.stacks:
        row = f"| {stack.stage} | {stack.name} | {stack.environment} | {len(stack.resources)} |"
        for pack, rules in result.rules.items():
            acks = [ack for ack in stack.acknowledgments if pack_of(ack.rule_id) == pack]
            row += f" {len(applicable_rules(stack, rules))} / {len(acks)} |"
        row += f" {sum(1 for finding in assembly.findings if stack.contains(finding.path))} |"
        out.append(row)
    out.append("")

    out.append("## Acknowledged findings\n")
    out.append(
        "Each acknowledges one finding on one resource (the construct named, and the CloudFormation "
        "resources below it), recorded next to the code that creates it.\n"
    )
    by_stage: dict[str, list[StackInfo]] = collections.defaultdict(list)
    for stack in assembly.stacks:
        by_stage[stack.stage].append(stack)
    for stage, stacks in by_stage.items():
        acknowledged = [(stack, ack) for stack in stacks for ack in stack.acknowledgments]
        out.append(f"### {stage}: {len(acknowledged)} acknowledged\n")
        if not acknowledged:
            continue
        out.append("| stack | resource | rule | level | reason |")
        out.append("|---|---|---|---|---|")
        for stack, ack in sorted(
            acknowledged, key=lambda item: (item[0].name, item[1].path, item[1].rule_id)
        ):
            level = levels.get(base_rule(ack.rule_id), "CDK")
            out.append(
                f"| {stack.name} | `{stack.relative(ack.path)}` | `{ack.rule_id}` | {level} | "
                f"{_cell(ack.reason)} |"
            )
        out.append("")

    out.append("### Acknowledgments by rule\n")
    out.append("| rule | acknowledged | environments |")
    out.append("|---|---|---|")
    by_rule: dict[str, list[tuple[StackInfo, Acknowledgment]]] = collections.defaultdict(list)
    for stack in assembly.stacks:
        for ack in stack.acknowledgments:
            by_rule[base_rule(ack.rule_id)].append((stack, ack))
    for rule_id, items in sorted(by_rule.items()):
        stages = sorted({stack.stage for stack, _ in items})
        out.append(f"| `{rule_id}` | {len(items)} | {', '.join(stages)} |")
    out.append("")

    out.append("## Rules applied, per stack\n")
    for stack in assembly.stacks:
        out.append(f"<details><summary>{stack.path} ({len(stack.resources)} resources)</summary>\n")
        for pack, rules in result.rules.items():
            applied = applicable_rules(stack, rules)
            acked = collections.Counter(
                base_rule(ack.rule_id) for ack in stack.acknowledgments if pack_of(ack.rule_id) == pack
            )
            out.append(f"**{PACK_TITLES[pack]}**: {len(applied)} of {len(rules)} rules had resources here.\n")
            out.append("| rule | level | resources examined | acknowledged | checks that |")
            out.append("|---|---|---|---|---|")
            for rule, count in applied:
                out.append(
                    f"| `{rule.rule_id}` | {rule.level} | {count} | {acked.get(rule.rule_id, 0)} | "
                    f"{_cell(rule.info)} |"
                )
            out.append("")
        out.append("</details>\n")

    out.extend(render_deploy_rules(result.deploy_violations, len(result.templates)))

    out.append("## cfn-lint\n")
    out.append(
        f"cfn-lint {tools.cfn_lint_version} on {len(result.templates)} templates (nested stage assemblies "
        "included), settings in `.cfnlintrc.yaml`: "
        f"{len(tools.lint_matches)} matches.\n"
    )
    for match in tools.lint_matches:
        out.append(f"- {match.rule_id} ({match.level}) `{match.template}` `{match.path}`: {match.message}")
    out.append("")

    out.append("## checkov\n")
    out.append(
        f"checkov {tools.checkov_version}, framework cloudformation, on {len(result.templates)} templates: "
        f"{tools.passed} passed, {len(tools.failed)} failed, {len(tools.skipped)} skipped.\n"
    )
    if tools.failed:
        out.append("### Failed\n")
        out.extend(_check_lines(tools.failed, with_comment=False))
        out.append("")
    out.append("### Skipped, by check\n")
    out.append(
        "Each skip is declared on the resource (`Metadata: checkov: skip`), next to the code that "
        "creates it.\n"
    )
    by_check: dict[tuple[str, str], list[CheckResult]] = collections.defaultdict(list)
    for check in tools.skipped:
        by_check[(check.check_id, check.name)].append(check)
    out.append("| check | skipped on | reasons |")
    out.append("|---|---|---|")
    for (check_id, name), checks in sorted(by_check.items()):
        reasons = sorted({check.comment for check in checks})
        resources = sorted({check.resource.split(".", 1)[-1] for check in checks})
        out.append(
            f"| `{check_id}` {_cell(name)} | {len(checks)} ({_cell(', '.join(resources))}) | "
            f"{'<br>'.join(_cell(reason) for reason in reasons)} |"
        )
    out.append("")

    out.append("## Rule catalogue\n")
    for pack, rules in result.rules.items():
        out.append(f"<details><summary>{PACK_TITLES[pack]}: {len(rules)} rules</summary>\n")
        out.append("| rule | level | finding |")
        out.append("|---|---|---|")
        out.extend(f"| `{rule.rule_id}` | {rule.level} | {_cell(rule.info)} |" for rule in rules)
        out.append("\n</details>\n")
    return "\n".join(out) + "\n"


def _check_lines(checks: Iterable[CheckResult], *, with_comment: bool) -> list[str]:
    return [
        f"- `{check.check_id}` {check.name}: `{check.resource}` in `{check.template}`"
        + (f": {check.comment}" if with_comment else "")
        for check in checks
    ]


def _cell(text: str) -> str:
    """Text that stays inside one Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")
