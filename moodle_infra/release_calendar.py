"""Moodle's release calendar: how long each branch gets fixes, so the project can say when the configured
release stops getting security fixes (``make synth``, the compliance gate, the promotion approvals).

Source: Moodle's own calendar, the ``data/versions.json`` file of github.com/moodle/devdocs that
moodledev.io renders (each branch's "Important dates": https://moodledev.io/docs/5.3,
https://moodledev.io/docs/4.5 ...), read on 2026-12-05 after its change of 5.1's, 5.2's and 5.3's end
dates (moodle/devdocs pull request 1487). Add a branch here when Moodle publishes its dates.
"""

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from moodle_infra.moodle_requirements import branch_of

WARNING_DAYS = 90
"""The gate warns this many days before security support ends: time to plan, test and ship an upgrade."""


@dataclass(frozen=True, kw_only=True)
class Branch:
    name: str
    """``5.1``: the major release, whose minor releases (5.1.6) share its dates."""
    released: datetime.date
    general_end: datetime.date
    """Bug fixes end."""
    security_end: datetime.date
    """Security fixes end: after it, known vulnerabilities stay open."""
    lts: bool


BRANCHES = {
    branch.name: branch
    for branch in (
        Branch(
            name="4.5",
            released=datetime.date(2024, 10, 7),
            general_end=datetime.date(2025, 10, 6),
            security_end=datetime.date(2027, 10, 6),
            lts=True,
        ),
        Branch(
            name="5.0",
            released=datetime.date(2025, 4, 14),
            general_end=datetime.date(2026, 4, 20),
            security_end=datetime.date(2026, 10, 5),
            lts=False,
        ),
        Branch(
            name="5.1",
            released=datetime.date(2025, 10, 6),
            general_end=datetime.date(2026, 10, 5),
            security_end=datetime.date(2027, 4, 19),
            lts=False,
        ),
        Branch(
            name="5.2",
            released=datetime.date(2026, 4, 20),
            general_end=datetime.date(2027, 4, 19),
            security_end=datetime.date(2027, 10, 4),
            lts=False,
        ),
        Branch(
            name="5.3",
            released=datetime.date(2026, 10, 5),
            general_end=datetime.date(2027, 10, 4),
            security_end=datetime.date(2029, 10, 1),
            lts=True,
        ),
    )
}
"""Moodle's supported branches (and 5.0, the previous release the tests upgrade from), oldest first."""

today: Callable[[], datetime.date] = datetime.date.today
"""Replaced by tests with a fixed clock."""


@dataclass(frozen=True, kw_only=True)
class Support:
    """Where a release stands in the calendar on one day."""

    version: str
    branch: Branch | None
    """None when the calendar does not list the release's branch."""
    on: datetime.date

    @property
    def security_days_left(self) -> int | None:
        return None if self.branch is None else (self.branch.security_end - self.on).days

    @property
    def ended(self) -> bool:
        """Security support is over (the end date is the last day of it)."""
        days = self.security_days_left
        return days is not None and days < 0

    @property
    def ending_soon(self) -> bool:
        days = self.security_days_left
        return days is not None and 0 <= days <= WARNING_DAYS

    def describe(self) -> str:
        """One line, e.g. ``Moodle 5.1.6 (5.1): security support until 2027-04-19, 135 days left``."""
        if self.branch is None:
            return (
                f"Moodle {self.version}: branch {branch_of(self.version)} is not in Moodle's release "
                "calendar (moodle_infra/release_calendar.py): add its dates"
            )
        kind = "LTS" if self.branch.lts else "not LTS"
        head = f"Moodle {self.version} ({self.branch.name}, {kind}): security support"
        days = self.security_days_left
        assert days is not None
        if days < 0:
            return f"{head} ended on {self.branch.security_end}, {-days} days ago"
        return f"{head} until {self.branch.security_end}, {days} days left"


def support(version: str, *, on: datetime.date | None = None) -> Support:
    """The calendar entry of a release's branch, seen on ``on`` (today by default)."""
    return Support(version=version, branch=BRANCHES.get(branch_of(version)), on=on or today())


def configured_version(cdk_json: Path) -> str:
    """``moodle.moodle_release.version`` of a cdk.json, read without building the app."""
    context = json.loads(cdk_json.read_text())["context"]
    return str(context["moodle"]["moodle_release"]["version"])
