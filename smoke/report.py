"""Check results, as lines for the build log and as JUnit XML for CodeBuild test reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

SUITE_NAME = "smoke"


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    name: str
    outcome: Outcome
    seconds: float
    message: str
    """Why it failed or was skipped (what was expected, what was seen); what was seen when it passed."""


def format_line(result: CheckResult) -> str:
    return f"{result.outcome.upper()} {result.name} ({result.seconds:.2f}s): {result.message}"


def count(results: Sequence[CheckResult], outcome: Outcome) -> int:
    return sum(1 for result in results if result.outcome is outcome)


def summary_line(results: Sequence[CheckResult]) -> str:
    return (
        f"{count(results, Outcome.PASS)} passed, {count(results, Outcome.FAIL)} failed, "
        f"{count(results, Outcome.SKIP)} skipped"
    )


def junit_xml(results: Sequence[CheckResult]) -> ET.ElementTree[ET.Element]:
    """One ``smoke`` suite with one test case per check, the shape CodeBuild's JUNITXML reports read."""
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=SUITE_NAME,
        tests=str(len(results)),
        failures=str(count(results, Outcome.FAIL)),
        errors="0",
        skipped=str(count(results, Outcome.SKIP)),
        time=f"{sum(result.seconds for result in results):.3f}",
    )
    for result in results:
        case = ET.SubElement(
            suite, "testcase", classname=SUITE_NAME, name=result.name, time=f"{result.seconds:.3f}"
        )
        if result.outcome is Outcome.FAIL:
            ET.SubElement(case, "failure", message=result.message).text = result.message
        elif result.outcome is Outcome.SKIP:
            ET.SubElement(case, "skipped", message=result.message)
        else:
            ET.SubElement(case, "system-out").text = result.message
    return ET.ElementTree(suites)


def write_junit_xml(results: Sequence[CheckResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_xml(results).write(path, encoding="utf-8", xml_declaration=True)
