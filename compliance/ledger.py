"""The acknowledgment ledger: every acknowledged finding of the synthesized app, committed as
``compliance/acknowledgments.jsonl``, so that a new or removed suppression is never approved unseen.

The ledger is one JSON object per line (construct path, rule, reason), sorted, so a change shows up in
code review as added and removed lines. ``tests/compliance/test_ledger.py`` fails when the committed
ledger differs from what the code synthesizes (``make acknowledgments`` rewrites it). The gate compares
the acknowledgments it just read with the ledger of an earlier commit (``COMPLIANCE_BASE``, by default
the previous commit, ``HEAD^``) and lists what was added, removed or reworded in the report.

``python -m compliance.ledger write [cdk.out]`` rewrites the ledger from a synthesized assembly.
"""

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from compliance.assembly import Assembly, read_assembly
from compliance.report import _cell

ROOT = Path(__file__).resolve().parent.parent
LEDGER = ROOT / "compliance" / "acknowledgments.jsonl"
BASE_VARIABLE = "COMPLIANCE_BASE"
DEFAULT_BASE = "HEAD^"


@dataclass(frozen=True, order=True)
class Entry:
    path: str
    """The construct the acknowledgment is recorded on (stage and stack included)."""
    rule_id: str
    reason: str


@dataclass
class Changes:
    base: str
    """The git revision compared with, as given."""
    added: list[Entry] = field(default_factory=list)
    removed: list[Entry] = field(default_factory=list)
    reworded: list[tuple[Entry, Entry]] = field(default_factory=list)
    """(before, after): the same finding on the same construct, with another reason."""
    unavailable: str | None = None
    """Why no comparison could be made (no git, no such revision, no ledger there)."""

    def summary(self) -> str:
        """One line, short enough for an approval's comment."""
        if self.unavailable:
            return f"not compared with {self.base}, see the report"
        return (
            f"{len(self.added)} added, {len(self.removed)} removed, {len(self.reworded)} reworded "
            f"since {self.base}"
        )


def entries(assembly: Assembly) -> list[Entry]:
    return sorted(
        {
            Entry(ack.path, ack.rule_id, ack.reason)
            for stack in assembly.stacks
            for ack in stack.acknowledgments
        }
    )


def render(ledger: Iterable[Entry]) -> str:
    return "".join(
        json.dumps({"path": entry.path, "rule": entry.rule_id, "reason": entry.reason}) + "\n"
        for entry in sorted(ledger)
    )


def parse(text: str) -> list[Entry]:
    rows = (json.loads(line) for line in text.splitlines() if line.strip())
    return sorted(Entry(row["path"], row["rule"], row["reason"]) for row in rows)


def compare(before: Iterable[Entry], after: Iterable[Entry], *, base: str) -> Changes:
    old = {(entry.path, entry.rule_id): entry for entry in before}
    new = {(entry.path, entry.rule_id): entry for entry in after}
    return Changes(
        base=base,
        added=sorted(new[key] for key in new.keys() - old.keys()),
        removed=sorted(old[key] for key in old.keys() - new.keys()),
        reworded=sorted(
            (old[key], new[key]) for key in old.keys() & new.keys() if old[key].reason != new[key].reason
        ),
    )


def ledger_at(revision: str, *, repository: Path = ROOT) -> tuple[list[Entry] | None, str | None]:
    """The ledger as committed at ``revision``, or None and why not."""
    relative = LEDGER.relative_to(ROOT).as_posix()
    try:
        shown = subprocess.run(
            ["git", "show", f"{revision}:{relative}"],
            cwd=repository,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return None, "git is not installed"
    if shown.returncode != 0:
        error = shown.stderr.strip().splitlines()[-1] if shown.stderr.strip() else f"exit {shown.returncode}"
        return None, f"{revision}:{relative} is not available: {error}"
    return parse(shown.stdout), None


def changes_since(assembly: Assembly, *, base: str | None = None, repository: Path = ROOT) -> Changes:
    revision = base or os.environ.get(BASE_VARIABLE) or DEFAULT_BASE
    before, why_not = ledger_at(revision, repository=repository)
    if before is None:
        return Changes(base=revision, unavailable=why_not)
    return compare(before, entries(assembly), base=revision)


def render_changes(changes: Changes) -> str:
    """The report's section: every change listed, nothing summarized away."""
    out = ["## Acknowledgments changed since the previous commit\n"]
    if changes.unavailable:
        out.append(
            f"Not compared: {changes.unavailable}. Compare by hand with `git diff {changes.base} -- "
            f"{LEDGER.relative_to(ROOT).as_posix()}`.\n"
        )
        return "\n".join(out)
    out.append(
        f"Compared with the ledger (`{LEDGER.relative_to(ROOT).as_posix()}`) at `{changes.base}`: "
        f"{changes.summary()}.\n"
    )
    if changes.added or changes.removed or changes.reworded:
        out.append("| change | construct | rule | reason |")
        out.append("|---|---|---|---|")
        out.extend(f"| added | `{e.path}` | `{e.rule_id}` | {_cell(e.reason)} |" for e in changes.added)
        out.extend(f"| removed | `{e.path}` | `{e.rule_id}` | {_cell(e.reason)} |" for e in changes.removed)
        out.extend(
            f"| reworded | `{after.path}` | `{after.rule_id}` | {_cell(after.reason)} (was: "
            f"{_cell(before.reason)}) |"
            for before, after in changes.reworded
        )
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2) or argv[0] != "write":
        print("usage: python -m compliance.ledger write [cdk.out]", file=sys.stderr)
        return 2
    directory = Path(argv[1] if len(argv) == 2 else "cdk.out")
    if not (directory / "manifest.json").exists():
        print(f"ledger: {directory} holds no cloud assembly (run `make synth`)", file=sys.stderr)
        return 2
    ledger = entries(read_assembly(directory))
    LEDGER.write_text(render(ledger))
    print(f"ledger: {len(ledger)} acknowledgments written to {LEDGER.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
