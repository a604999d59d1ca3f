"""Moodle's release calendar as the project reads it: the table pinned against a fixed clock, and what
``make synth`` and the approvals say about the configured release."""

import datetime
from pathlib import Path

import pytest

from moodle_infra import release_calendar
from moodle_infra.release_calendar import BRANCHES, configured_version, support
from pipeline.approval_step import ReleaseFacts, support_note
from tests.compliance.assembly_fixture import write_assembly
from tools import synth_summary

TODAY = datetime.date(2026, 12, 5)
"""The day the table was checked against Moodle's calendar."""


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(release_calendar, "today", lambda: TODAY)


def test_the_table_as_moodle_publishes_it() -> None:
    table = {
        name: (str(b.released), str(b.general_end), str(b.security_end), b.lts)
        for name, b in BRANCHES.items()
    }
    assert table == {
        "4.5": ("2024-10-07", "2025-10-06", "2027-10-06", True),
        "5.0": ("2025-04-14", "2026-04-20", "2026-10-05", False),
        "5.1": ("2025-10-06", "2026-10-05", "2027-04-19", False),
        "5.2": ("2026-04-20", "2027-04-19", "2027-10-04", False),
        "5.3": ("2026-10-05", "2027-10-04", "2029-10-01", True),
    }


@pytest.mark.parametrize(
    ("version", "days", "line"),
    [
        ("5.1.6", 135, "Moodle 5.1.6 (5.1, not LTS): security support until 2027-04-19, 135 days left"),
        ("5.3", 1031, "Moodle 5.3 (5.3, LTS): security support until 2029-10-01, 1031 days left"),
        ("4.5.13", 305, "Moodle 4.5.13 (4.5, LTS): security support until 2027-10-06, 305 days left"),
    ],
)
def test_days_of_security_support_left_today(version: str, days: int, line: str) -> None:
    found = support(version)
    assert (found.security_days_left, found.ended, found.ending_soon) == (days, False, False)
    assert found.describe() == line


def test_a_branch_past_its_end() -> None:
    """5.0's security support ended on 5 October 2026."""
    found = support("5.0.6")
    assert (found.security_days_left, found.ended) == (-61, True)
    assert found.describe() == (
        "Moodle 5.0.6 (5.0, not LTS): security support ended on 2026-10-05, 61 days ago"
    )


def test_the_last_day_of_support_still_counts_and_the_warning_starts_90_days_before() -> None:
    end = BRANCHES["5.1"].security_end
    assert (support("5.1.6", on=end).ended, support("5.1.6", on=end).ending_soon) == (False, True)
    assert support("5.1.6", on=end + datetime.timedelta(days=1)).ended
    assert support("5.1.6", on=end - datetime.timedelta(days=90)).ending_soon
    assert not support("5.1.6", on=end - datetime.timedelta(days=91)).ending_soon


def test_an_unknown_branch_says_the_calendar_needs_it() -> None:
    found = support("6.0.1")
    assert (found.branch, found.security_days_left, found.ended) == (None, None, False)
    assert "branch 6.0 is not in Moodle's release calendar" in found.describe()


def test_make_synth_prints_the_configured_releases_support(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    synth_summary.main(["synth_summary", str(write_assembly(tmp_path / "cdk.out"))])
    version = configured_version(synth_summary.CDK_JSON)
    assert capsys.readouterr().out.splitlines()[-1] == support(version).describe()


def test_the_approval_shows_the_support_beside_the_release() -> None:
    release = ReleaseFacts(moodle_version="5.1.6", moodle_sha256="0" * 64, image_tag="img-0")
    assert support_note(release) == "Security fixes until 2027-04-19 (135 days)."
