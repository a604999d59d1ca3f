"""The gate's check of the configured Moodle release against Moodle's release calendar: a release whose
security support has ended (or whose branch the calendar does not know) fails the gate; one inside
:data:`~moodle_infra.release_calendar.WARNING_DAYS` of its end passes with a warning."""

from dataclasses import dataclass

from moodle_infra.release_calendar import WARNING_DAYS, Support


@dataclass(frozen=True)
class Verdict:
    problems: list[str]
    """Fail the gate."""
    warnings: list[str]


def verdict(support: Support) -> Verdict:
    line = support.describe()
    if support.branch is None or support.ended:
        fix = "" if support.branch is None else ": move moodle.moodle_release in cdk.json to a supported one"
        return Verdict(problems=[f"release: {line}{fix}"], warnings=[])
    if support.ending_soon:
        return Verdict(
            problems=[],
            warnings=[f"release: {line} ({WARNING_DAYS} days or fewer): plan the upgrade to a supported one"],
        )
    return Verdict(problems=[], warnings=[])


def section(support: Support) -> str:
    """The report's paragraph on the release."""
    found = verdict(support)
    status = "FAILS the gate" if found.problems else "warning" if found.warnings else "passes"
    return f"## Moodle release support\n\n{support.describe()} ({status}; Moodle's release calendar).\n"
