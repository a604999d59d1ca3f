"""The compliance report's section on deploy-time rules (:mod:`compliance.deploy_rules`)."""

from collections.abc import Mapping, Sequence

from compliance.deploy_rules import RULES, Violation


def deploy_problems(violations: Mapping[str, Sequence[Violation]]) -> list[str]:
    """One line per violation, for the gate's list of what failed."""
    return [
        f"deploy rule {rule_id}: {violation}" for rule_id, found in violations.items() for violation in found
    ]


def gate_row(violations: Mapping[str, Sequence[Violation]], templates: int) -> str:
    failed = sum(1 for found in violations.values() if found)
    count = sum(len(found) for found in violations.values())
    return (
        f"| deploy-time rules | {len(violations)} rules over all {templates} templates together | "
        f"{count} violations ({failed} rules failed) |"
    )


def render_deploy_rules(violations: Mapping[str, Sequence[Violation]], templates: int) -> list[str]:
    """What each rule enforces, the AWS documentation it cites, and what it found."""
    out = ["## Deploy-time rules\n"]
    out.append(
        "cdk-nag, cfn-lint and checkov check what a template says; these rules check what AWS requires "
        "when it deploys it (`compliance/deploy_rules/`, tests in `tests/deploy/`). Each reads all "
        f"{templates} templates at once, since many requirements span stacks.\n"
    )
    out.append("| rule | requirement | violations | AWS documentation |")
    out.append("|---|---|---|---|")
    for rule in RULES:
        found = violations.get(rule.rule_id, [])
        links = "<br>".join(f"<{url}>" for url in rule.documentation)
        out.append(f"| `{rule.rule_id}` | {rule.title} | {len(found)} | {links} |")
    out.append("")
    for rule in RULES:
        found = violations.get(rule.rule_id, [])
        out.append(f"<details><summary><code>{rule.rule_id}</code>: {rule.title}</summary>\n")
        out.append(rule.description.replace("|", "\\|") + "\n")
        out.extend(f"- {violation}" for violation in found)
        out.append("\n</details>\n")
    return out
