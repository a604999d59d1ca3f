"""The gate's results as JUnit XML, for a CodeBuild report group: what reviewers browse in the console.

One test case per rule (or check) and stack, in one test suite per source: each cdk-nag pack, CDK's own
rules, cfn-lint, checkov, the gate itself, and the acknowledgments changed since the previous commit.
A case fails when the rule has an unacknowledged finding in that stack (the message is the rule's text,
the body names every construct); it is skipped when every finding there is acknowledged (the body
gives each construct and reason). The rules that passed in a stack are folded into one passed case
per source and stack that names them: CodeBuild keeps at most 500 cases per report (failed ones
first), and a reviewer looks for what failed or was waived. The Markdown report stays the full record.

A source is a function from the gate's result to :class:`RuleCase` objects (see :data:`SOURCES`); a
new kind of rule (deploy-time rules, for instance) is one more such function, nothing else changes.
"""

import collections
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from compliance.assembly import Assembly, StackInfo
from compliance.deploy_rules import RULES
from compliance.ledger import Changes
from compliance.report import CDK_OWN, PACK_TITLES, GateResult, applicable_rules, base_rule, pack_of

JUNIT_NAME = "compliance-junit.xml"
CODEBUILD_CASE_LIMIT = 500
"""CodeBuild keeps this many test cases of one report and drops the rest, failed cases kept first."""


@dataclass(frozen=True)
class Occurrence:
    """Where a rule found something: a construct path or resource below the stack, and why it is
    acceptable (acknowledged) or what is wrong (failed)."""

    where: str
    detail: str = ""


@dataclass(frozen=True)
class RuleCase:
    """One rule in one stack: failed when anything in ``failures``, else skipped when anything is
    acknowledged, else passed."""

    suite: str
    stack: str
    rule_id: str
    text: str
    failures: tuple[Occurrence, ...] = ()
    acknowledged: tuple[Occurrence, ...] = ()

    @property
    def outcome(self) -> str:
        return "failed" if self.failures else "skipped" if self.acknowledged else "passed"


Source = Callable[[GateResult], Iterable[RuleCase]]

GATE_SUITE = "Compliance gate"


def _grouped(items: Iterable[tuple[str, str, Occurrence]]) -> dict[tuple[str, str], list[Occurrence]]:
    grouped: dict[tuple[str, str], list[Occurrence]] = collections.defaultdict(list)
    for stack, rule_id, occurrence in items:
        grouped[(stack, rule_id)].append(occurrence)
    return grouped


def _stack_path(assembly: Assembly, construct_path: str) -> tuple[str, str]:
    """(stack path, construct path below it); findings outside every stack stay whole."""
    stack = assembly.stack_of(construct_path)
    return (stack.path, stack.relative(construct_path)) if stack else ("(no stack)", construct_path)


def _finding_occurrences(assembly: Assembly) -> Iterator[tuple[str, str, Occurrence]]:
    for finding in assembly.findings:
        stack_path, below = _stack_path(assembly, finding.path)
        detail = _qualified(finding.rule_id, f"{finding.severity}: {finding.description}")
        yield stack_path, base_rule(finding.rule_id), Occurrence(below, detail)


def _qualified(rule_id: str, text: str) -> str:
    """``text``, led by the finding's ID where it names more than the rule (``IAM5[Action::s3:*]``)."""
    return text if rule_id == base_rule(rule_id) else f"{rule_id}: {text}"


def nag_cases(result: GateResult) -> Iterator[RuleCase]:
    """Every cdk-nag rule that had resources to examine in a stack, and every rule with a finding or an
    acknowledgment there; CDK's own rules (construct annotations) have findings and acknowledgments only."""
    assembly = result.assembly
    texts = {rule.rule_id: rule.info for rules in result.rules.values() for rule in rules}
    failures = _grouped(_finding_occurrences(assembly))
    acknowledged = _grouped(
        (
            stack.path,
            base_rule(ack.rule_id),
            Occurrence(stack.relative(ack.path), _qualified(ack.rule_id, ack.reason)),
        )
        for stack in assembly.stacks
        for ack in stack.acknowledgments
    )
    descriptions = {
        base_rule(finding.rule_id): finding.description
        for finding in assembly.findings
        if finding.description
    }
    keys = set(failures) | set(acknowledged)
    for stack in assembly.stacks:
        for rules in result.rules.values():
            keys.update((stack.path, rule.rule_id) for rule, _ in applicable_rules(stack, rules))
    for stack_path, rule_id in sorted(keys):
        pack = pack_of(rule_id)
        yield RuleCase(
            suite=f"cdk-nag {PACK_TITLES[pack]}" if pack in PACK_TITLES else CDK_OWN,
            stack=stack_path,
            rule_id=rule_id,
            text=texts.get(rule_id) or descriptions.get(rule_id, rule_id),
            failures=tuple(failures.get((stack_path, rule_id), ())),
            acknowledged=tuple(acknowledged.get((stack_path, rule_id), ())),
        )


def _template_stacks(result: GateResult) -> dict[str, StackInfo]:
    assembly = result.assembly
    return {str(stack.template_file.relative_to(assembly.directory)): stack for stack in assembly.stacks}


def cfn_lint_cases(result: GateResult) -> Iterator[RuleCase]:
    """cfn-lint reports matches only: one failed case per rule and stack it matched, one passed case
    for every stack without a match."""
    stacks = _template_stacks(result)
    matches = _grouped(
        (
            stacks[match.template].path if match.template in stacks else match.template,
            match.rule_id,
            Occurrence(match.path, f"{match.level}: {match.message}"),
        )
        for match in result.tools.lint_matches
    )
    for (stack_path, rule_id), occurrences in sorted(matches.items()):
        yield RuleCase("cfn-lint", stack_path, rule_id, occurrences[0].detail, failures=tuple(occurrences))
    matched = {stack_path for stack_path, _ in matches}
    for stack in sorted(stacks.values(), key=lambda stack: stack.path):
        if stack.path not in matched:
            yield RuleCase(
                "cfn-lint", stack.path, "all rules", "No cfn-lint match (settings: .cfnlintrc.yaml)"
            )


def checkov_cases(result: GateResult) -> Iterator[RuleCase]:
    """One case per check and stack: failed checks and stale skips fail it, skips (each with the reason
    declared on the resource) make it skipped."""
    stacks = _template_stacks(result)
    tools = result.tools

    def stack_of(template: str) -> str:
        return stacks[template].path if template in stacks else template

    names: dict[str, str] = {}
    outcomes: dict[tuple[str, str], dict[str, list[Occurrence]]] = collections.defaultdict(
        lambda: {"failed": [], "skipped": []}
    )
    for kind, checks in (
        ("passed", tools.passed_checks),
        ("failed", tools.failed),
        ("skipped", tools.skipped),
    ):
        for check in checks:
            names.setdefault(check.check_id, check.name)
            resource = check.resource.split(".", 1)[-1]
            entry = outcomes[(stack_of(check.template), check.check_id)]
            if kind != "passed":
                entry[kind].append(Occurrence(resource, check.comment))
    for skip in result.stale_skips:
        outcomes[(stack_of(skip.template), skip.check_id)]["failed"].append(
            Occurrence(skip.resource.split(".", 1)[-1], "stale skip: the check no longer applies, remove it")
        )
    for (stack_path, check_id), entry in sorted(outcomes.items()):
        yield RuleCase(
            "checkov",
            stack_path,
            check_id,
            names.get(check_id, check_id),
            failures=tuple(entry["failed"]),
            acknowledged=tuple(entry["skipped"]),
        )


def gate_cases(result: GateResult) -> Iterator[RuleCase]:
    """A tool that could not run, or a template it could not read, fails the gate without any rule."""
    tools = result.tools
    problems = [*tools.errors, *(f"checkov cannot parse {path}" for path in tools.parsing_errors)]
    yield RuleCase(
        GATE_SUITE,
        "(all templates)",
        "tools ran",
        f"cfn-lint {tools.cfn_lint_version} and checkov {tools.checkov_version} checked "
        f"{len(result.templates)} templates, and caught the planted canary",
        failures=tuple(Occurrence("gate", problem) for problem in problems),
    )


CHANGES_SUITE = "Acknowledgments changed"


def change_cases(assembly: Assembly, changes: Changes) -> Iterator[RuleCase]:
    """What the ledger comparison found: added and reworded acknowledgments are listed as skipped cases
    with their reason, removed ones as passed; a comparison that could not be made is said so."""
    if changes.unavailable:
        yield RuleCase(
            CHANGES_SUITE,
            "(all stacks)",
            f"not compared with {changes.base}",
            "The acknowledgments could not be compared with the previous commit",
            acknowledged=(Occurrence("ledger", changes.unavailable),),
        )
        return
    listed = [
        *(("added", entry, entry.reason) for entry in changes.added),
        *(
            ("reworded", after, f"{after.reason} (was: {before.reason})")
            for before, after in changes.reworded
        ),
    ]
    for change, entry, detail in listed:
        stack_path, below = _stack_path(assembly, entry.path)
        yield RuleCase(
            CHANGES_SUITE,
            stack_path,
            f"{change}: {entry.rule_id}",
            f"Acknowledgment {change} since {changes.base}",
            acknowledged=(Occurrence(below, detail),),
        )
    for entry in changes.removed:
        stack_path, _ = _stack_path(assembly, entry.path)
        yield RuleCase(
            CHANGES_SUITE, stack_path, f"removed: {entry.rule_id}", f"No longer acknowledged on {entry.path}"
        )


DEPLOY_SUITE = "Deploy-time rules"


def deploy_rule_cases(result: GateResult) -> Iterator[RuleCase]:
    """The deploy-time rules read all templates together: a failed case per rule and stack it found
    something in, one passed case for a rule that found nothing anywhere."""
    titles = {rule.rule_id: f"{rule.title} ({', '.join(rule.documentation)})" for rule in RULES}
    for rule_id, violations in result.deploy_violations.items():
        by_stack = _grouped(
            (violation.stack, rule_id, Occurrence(violation.resource, violation.message))
            for violation in violations
        )
        for (stack, _), occurrences in sorted(by_stack.items()):
            yield RuleCase(
                DEPLOY_SUITE, stack, rule_id, titles.get(rule_id, rule_id), failures=tuple(occurrences)
            )
        if not violations:
            yield RuleCase(DEPLOY_SUITE, "all templates", rule_id, titles.get(rule_id, rule_id))


SOURCES: tuple[Source, ...] = (nag_cases, cfn_lint_cases, checkov_cases, deploy_rule_cases, gate_cases)


def collect(result: GateResult, sources: Iterable[Source] = SOURCES) -> list[RuleCase]:
    return fold_passed(case for source in sources for case in source(result))


def fold_passed(cases: Iterable[RuleCase]) -> list[RuleCase]:
    """Failed and skipped cases as they are; the passed ones as one case per suite and stack."""
    kept: list[RuleCase] = []
    passed: dict[tuple[str, str], list[RuleCase]] = collections.defaultdict(list)
    for case in cases:
        (passed[(case.suite, case.stack)] if case.outcome == "passed" else kept).append(case)
    for (suite, stack), group in passed.items():
        rule_ids = sorted(case.rule_id for case in group)
        kept.append(
            group[0]
            if len(group) == 1
            else RuleCase(suite, stack, f"{len(group)} rules passed", "Passed: " + ", ".join(rule_ids))
        )
    folded = kept
    suites = list(dict.fromkeys(case.suite for case in folded))
    return sorted(folded, key=lambda case: (suites.index(case.suite), case.stack, case.rule_id))


def render(cases: Iterable[RuleCase]) -> str:
    """JUnit XML as CodeBuild reads it: suites of cases, the stack as the class name."""
    by_suite: dict[str, list[RuleCase]] = collections.defaultdict(list)
    for case in cases:
        by_suite[case.suite].append(case)
    root = ElementTree.Element("testsuites", name="Compliance")
    for suite_name, suite_cases in by_suite.items():
        counts = collections.Counter(case.outcome for case in suite_cases)
        suite = ElementTree.SubElement(
            root,
            "testsuite",
            name=suite_name,
            tests=str(len(suite_cases)),
            failures=str(counts["failed"]),
            skipped=str(counts["skipped"]),
            errors="0",
        )
        for case in suite_cases:
            element = ElementTree.SubElement(
                suite, "testcase", name=case.rule_id, classname=case.stack, time="0"
            )
            if case.failures:
                failure = ElementTree.SubElement(element, "failure", message=case.text, type="unacknowledged")
                failure.text = _body(case.text, case.failures, case.acknowledged)
            elif case.acknowledged:
                reasons = "; ".join(sorted({occurrence.detail for occurrence in case.acknowledged}))
                skipped = ElementTree.SubElement(element, "skipped", message=f"Acknowledged: {reasons}")
                skipped.text = _body(case.text, (), case.acknowledged)
            else:
                ElementTree.SubElement(element, "system-out").text = case.text
    ElementTree.indent(root)
    counts = collections.Counter(case.outcome for suite_cases in by_suite.values() for case in suite_cases)
    root.set("tests", str(sum(counts.values())))
    root.set("failures", str(counts["failed"]))
    root.set("skipped", str(counts["skipped"]))
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _body(text: str, failures: Iterable[Occurrence], acknowledged: Iterable[Occurrence]) -> str:
    lines = [text]
    if failures := list(failures):
        lines += ["", "Unacknowledged:"] + [f"  {item.where}: {item.detail}" for item in failures]
    if acknowledged := list(acknowledged):
        lines += ["", "Acknowledged:"] + [f"  {item.where}: {item.detail}" for item in acknowledged]
    return "\n".join(lines)


def write(directory: Path, cases: Iterable[RuleCase]) -> Path:
    path = directory / JUNIT_NAME
    path.write_text(render(cases))
    return path
