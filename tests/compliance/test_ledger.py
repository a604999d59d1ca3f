"""The acknowledgment ledger: committed, current, and compared with an earlier commit."""

import subprocess
from pathlib import Path

from compliance import ledger
from compliance.assembly import read_assembly
from tests.compliance.assembly_fixture import ACK_REASON, STACK_PATH, write_assembly
from tests.compliance.conftest import Synthesis


def test_the_committed_ledger_lists_every_acknowledgment_of_the_app(shipped_synthesis: Synthesis) -> None:
    current = ledger.render(ledger.entries(shipped_synthesis.assembly))
    assert ledger.LEDGER.read_text() == current, (
        "compliance/acknowledgments.jsonl differs from the app's acknowledgments: run "
        "`make acknowledgments` and commit it, so that reviewers see the change"
    )


def test_added_removed_and_reworded_acknowledgments_are_found() -> None:
    kept = ledger.Entry("Dev/Data/Database", "AwsSolutions-RDS3", "single-AZ in dev")
    old_reason = ledger.Entry("Dev/Data/Cache", "AwsSolutions-AEC4", "no replica in dev")
    gone = ledger.Entry("Dev/Data/Bucket", "AwsSolutions-S1", "a log bucket")
    new = ledger.Entry("Prod/Data/Bucket", "AwsSolutions-S10", "a new exception")
    reworded = ledger.Entry("Dev/Data/Cache", "AwsSolutions-AEC4", "no replica in dev, to save cost")
    before = ledger.parse(ledger.render([kept, old_reason, gone]))
    changes = ledger.compare(before, [kept, reworded, new], base="HEAD^")
    assert (changes.added, changes.removed, changes.reworded) == ([new], [gone], [(old_reason, reworded)])
    assert changes.summary() == "1 added, 1 removed, 1 reworded since HEAD^"
    section = ledger.render_changes(changes)
    assert "| added | `Prod/Data/Bucket` | `AwsSolutions-S10` | a new exception |" in section
    assert "(was: no replica in dev)" in section


def test_compared_with_the_ledger_of_a_git_revision(tmp_path: Path) -> None:
    repository = tmp_path / "repo"
    (repository / "compliance").mkdir(parents=True)
    git = ["git", "-C", str(repository), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git[:3], "init", "-q"], check=True)
    (repository / "compliance" / ledger.LEDGER.name).write_text("")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "no acknowledgments yet"], check=True)

    assembly = read_assembly(write_assembly(tmp_path / "cdk.out"))
    changes = ledger.changes_since(assembly, base="HEAD", repository=repository)
    assert {(entry.path, entry.rule_id, entry.reason) for entry in changes.added} == {
        (f"{STACK_PATH}/Database", "AwsSolutions-RDS3", ACK_REASON),
        (f"{STACK_PATH}/Database", "NIST.800.53.R5-RDSMultiAZSupport", ACK_REASON),
    }
    missing = ledger.changes_since(assembly, base="HEAD^", repository=repository)
    assert missing.unavailable is not None and "HEAD^" in missing.unavailable
    assert missing.summary().startswith("not compared")
