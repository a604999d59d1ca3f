"""``python -m compliance.gate [cdk.out]``: the checks that run on a synthesized cloud assembly.

cdk-nag has already run inside the synthesis (an unacknowledged finding stops it and leaves
``validation-report.json`` behind); this runs cfn-lint and checkov over every template, nested stage
assemblies included, plus a planted bad template that both must catch (:mod:`compliance.canary`), runs
the deploy-time rules (:mod:`compliance.deploy_rules`) over all templates together, compares the
acknowledgments with the previous commit's ledger (:mod:`compliance.ledger`), and writes
``compliance-report.md`` (for people), ``compliance-report.json`` (for tools), ``compliance-junit.xml``
(for the pipeline's report group, :mod:`compliance.junit`) and ``acknowledgment-changes.txt`` (one line,
for the approvals) into the assembly. Exit status 1 when anything is unresolved: a cdk-nag finding, any
cfn-lint match, a failed checkov check, a checkov skip that no longer applies, or a deploy rule violation.
"""

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compliance import junit
from compliance.assembly import Assembly, read_assembly
from compliance.canary import take_canary_results, write_canary
from compliance.deploy_rules import run_rules, templates_of_assembly
from compliance.ledger import changes_since, render_changes
from compliance.nag_rules import pack_rules
from compliance.release_support import section, verdict
from compliance.report import CheckovSkip, GateResult, render
from compliance.tools import run_tools
from moodle_infra.release_calendar import configured_version, support

REPORT_NAME = "compliance-report.md"
SUMMARY_NAME = "compliance-report.json"
CHANGES_NAME = "acknowledgment-changes.txt"


def declared_skips(assembly: Assembly) -> Iterator[CheckovSkip]:
    """Every ``checkov: skip`` entry in the templates' resource metadata."""
    for stack in assembly.stacks:
        template = json.loads(stack.template_file.read_text())
        relative = str(stack.template_file.relative_to(assembly.directory))
        for logical_id, resource in template.get("Resources", {}).items():
            for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", []):
                yield CheckovSkip(
                    template=relative,
                    resource=f"{resource['Type']}.{logical_id}",
                    check_id=skip["id"],
                    comment=skip.get("comment", ""),
                )


def run_gate(directory: Path) -> GateResult:
    assembly = read_assembly(directory)
    templates = [stack.template_file for stack in assembly.stacks]
    with tempfile.TemporaryDirectory(prefix="compliance-canary-") as scratch:
        tools = run_tools([*templates, write_canary(Path(scratch))], base=directory)
    tools.errors.extend(take_canary_results(tools))
    return GateResult(
        assembly=assembly,
        rules=pack_rules(),
        tools=tools,
        declared_skips=list(declared_skips(assembly)),
        templates=[str(template.relative_to(directory)) for template in templates],
        deploy_violations=run_rules(templates_of_assembly(assembly)),
    )


def summary(result: GateResult) -> dict[str, Any]:
    return {
        "passed": result.passed,
        "problems": result.problems,
        "stacks": [
            {
                "path": stack.path,
                "environment": stack.environment,
                "resources": len(stack.resources),
                "acknowledgments": [dataclasses.asdict(ack) for ack in stack.acknowledgments],
            }
            for stack in result.assembly.stacks
        ],
        "cfn_lint": {
            "version": result.tools.cfn_lint_version,
            "matches": [dataclasses.asdict(match) for match in result.tools.lint_matches],
        },
        "deploy_rules": {
            rule_id: [str(violation) for violation in found]
            for rule_id, found in result.deploy_violations.items()
        },
        "checkov": {
            "version": result.tools.checkov_version,
            "passed": result.tools.passed,
            "failed": [dataclasses.asdict(check) for check in result.tools.failed],
            "skipped": [dataclasses.asdict(check) for check in result.tools.skipped],
        },
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m compliance.gate", description=__doc__)
    parser.add_argument("assembly", nargs="?", default="cdk.out", type=Path)
    parser.add_argument(
        "--config", default="cdk.json", type=Path, help="the cdk.json whose Moodle release is checked"
    )
    arguments = parser.parse_args(argv)
    directory: Path = arguments.assembly
    if not (directory / "manifest.json").exists():
        print(f"compliance: {directory} holds no cloud assembly (run `make synth`)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    result = run_gate(directory)
    release = support(configured_version(arguments.config))
    release_verdict = verdict(release)
    result = dataclasses.replace(result, release_problems=release_verdict.problems)
    changes = changes_since(result.assembly)
    (directory / REPORT_NAME).write_text(render(result, sections=[section(release), render_changes(changes)]))
    junit.write(directory, [*junit.collect(result), *junit.change_cases(result.assembly, changes)])
    (directory / CHANGES_NAME).write_text(changes.summary() + "\n")
    (directory / SUMMARY_NAME).write_text(json.dumps(summary(result), indent=1) + "\n")
    acknowledged = sum(len(stack.acknowledgments) for stack in result.assembly.stacks)
    print(
        f"compliance: {len(result.templates)} templates; cdk-nag {len(result.assembly.findings)} "
        f"unacknowledged, {acknowledged} acknowledged; cfn-lint {len(result.tools.lint_matches)} matches; "
        f"checkov {result.tools.passed} passed, {len(result.tools.failed)} failed, "
        f"{len(result.tools.skipped)} skipped; deploy rules "
        f"{sum(map(len, result.deploy_violations.values()))} violations of {len(result.deploy_violations)} "
        f"({time.perf_counter() - started:.1f} s). "
        f"Report: {directory / REPORT_NAME}; acknowledgments {changes.summary()}"
    )
    print(f"compliance: {release.describe()}")
    for warning in release_verdict.warnings:
        print(f"  warning: {warning}", file=sys.stderr)
    for problem in result.problems:
        print(f"  {problem}", file=sys.stderr)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
