"""What the build log and CodeBuild's test report show."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from smoke.report import CheckResult, Outcome, format_line, summary_line, write_junit_xml

RESULTS = [
    CheckResult("https", Outcome.PASS, 0.1234, "GET https://d111.cloudfront.net/ answered 200"),
    CheckResult("health", Outcome.FAIL, 1.5, "expected 200 from GET https://d.example/healthz, got 503"),
    CheckResult("origin-private", Outcome.SKIP, 0.0, "no ALB DNS name given"),
]


def test_each_check_gets_a_readable_line_and_the_run_a_summary() -> None:
    assert [format_line(result) for result in RESULTS] == [
        "PASS https (0.12s): GET https://d111.cloudfront.net/ answered 200",
        "FAIL health (1.50s): expected 200 from GET https://d.example/healthz, got 503",
        "SKIP origin-private (0.00s): no ALB DNS name given",
    ]
    assert summary_line(RESULTS) == "1 passed, 1 failed, 1 skipped"


def test_junit_xml_has_one_smoke_suite_with_a_case_per_check(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "smoke.xml"

    write_junit_xml(RESULTS, path)

    root = ET.parse(path).getroot()
    (suite,) = root.findall("testsuite")
    assert root.tag == "testsuites"
    assert suite.attrib == {
        "name": "smoke",
        "tests": "3",
        "failures": "1",
        "errors": "0",
        "skipped": "1",
        "time": "1.623",
    }
    https, health, origin = suite.findall("testcase")
    assert [case.get("name") for case in (https, health, origin)] == ["https", "health", "origin-private"]
    assert [case.get("time") for case in (https, health, origin)] == ["0.123", "1.500", "0.000"]
    assert {case.get("classname") for case in (https, health, origin)} == {"smoke"}
    assert https.findtext("system-out") == "GET https://d111.cloudfront.net/ answered 200"
    assert https.find("failure") is None
    failure = health.find("failure")
    assert failure is not None
    assert failure.get("message") == "expected 200 from GET https://d.example/healthz, got 503"
    skipped = origin.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "no ALB DNS name given"
