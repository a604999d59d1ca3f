"""The gate and the release calendar: a release past its security support fails the gate (the negative
control), one inside 90 days of it warns, a supported one passes; the report says which."""

import datetime
from pathlib import Path

from compliance.assembly import read_assembly
from compliance.release_support import section, verdict
from compliance.report import GateResult
from compliance.tools import ToolResults
from moodle_infra.release_calendar import support
from tests.compliance.assembly_fixture import write_assembly

TODAY = datetime.date(2026, 12, 5)


def test_a_supported_release_passes() -> None:
    found = verdict(support("5.1.6", on=TODAY))
    assert (found.problems, found.warnings) == ([], [])
    assert "135 days left (passes;" in section(support("5.1.6", on=TODAY))


def test_a_release_past_its_security_support_fails_the_gate() -> None:
    found = verdict(support("5.0.6", on=TODAY))
    assert found.problems == [
        "release: Moodle 5.0.6 (5.0, not LTS): security support ended on 2026-10-05, 61 days ago: move "
        "moodle.moodle_release in cdk.json to a supported one"
    ]
    assert "(FAILS the gate;" in section(support("5.0.6", on=TODAY))


def test_an_unknown_branch_fails_the_gate() -> None:
    assert verdict(support("6.0", on=TODAY)).problems


def test_a_release_within_90_days_of_its_end_warns_but_passes() -> None:
    found = verdict(support("5.1.6", on=datetime.date(2027, 2, 1)))
    assert found.problems == []
    assert found.warnings == [
        "release: Moodle 5.1.6 (5.1, not LTS): security support until 2027-04-19, 77 days left "
        "(90 days or fewer): plan the upgrade to a supported one"
    ]


def test_release_problems_fail_the_gate_result(tmp_path: Path) -> None:
    result = GateResult(
        assembly=read_assembly(write_assembly(tmp_path / "cdk.out")),
        rules={},
        tools=ToolResults(),
        release_problems=verdict(support("5.0.6", on=TODAY)).problems,
    )
    assert not result.passed
    assert result.problems[-1].startswith("release: Moodle 5.0.6")
