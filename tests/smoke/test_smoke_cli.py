"""``python -m smoke``: options, their environment fallbacks and exit codes."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from smoke.checks import CHECKS
from smoke.cli import EXIT_FAILED, EXIT_PASSED, EXIT_USAGE, main
from tests.smoke.smoke_certificates import certificates
from tests.smoke.smoke_fake_site import FakeSite, SiteBehaviour, running_site

Capture = pytest.CaptureFixture[str]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SITE = "https://s.example"


def local_options(site: FakeSite) -> list[str]:
    ca_bundle = certificates().ca_certificate
    return ["--url", site.url, "--ca-bundle", str(ca_bundle), "--http-port", str(site.http_port)]


def test_a_healthy_site_exits_0(capsys: Capture) -> None:
    with running_site(SiteBehaviour()) as site:
        argv = [*local_options(site), "--alb-dns-name", "localhost", "--request-timeout", "2"]
        releases = ["--expected-release", "5.1.6", "--reported-release", "5.1.6 (Build: 20260810)"]

        assert main([*argv, *releases], environ={}) == EXIT_PASSED

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"smoke: checking {site.url}/ (time limit 600s)"
    assert lines[-1] == "10 passed, 0 failed, 0 skipped"
    origin = next(line for line in lines if line.startswith("PASS origin-private ("))
    assert "localhost resolves to 127.0.0.1" in origin


def test_a_failing_check_exits_1(capsys: Capture) -> None:
    with running_site(SiteBehaviour(waf_blocks_sql_injection=False)) as site:
        assert main(local_options(site), environ={}) == EXIT_FAILED

    output = capsys.readouterr().out
    assert "\nFAIL waf-blocks-sqli (" in output
    assert output.endswith("7 passed, 1 failed, 2 skipped\n")


def test_the_environment_supplies_what_the_options_do_not(tmp_path: Path, capsys: Capture) -> None:
    report = tmp_path / "reports" / "smoke.xml"
    with running_site(SiteBehaviour(health_path="/status")) as site:
        environ = {
            "SMOKE_URL": site.url,
            "SMOKE_ALB_DNS_NAME": "localhost",
            "SMOKE_HEALTH_PATH": "/status",
            "SMOKE_JUNIT_XML": str(report),
            "SMOKE_CA_BUNDLE": str(certificates().ca_certificate),
            "SMOKE_EXPECTED_RELEASE": "5.1.6",
            "SMOKE_REPORTED_RELEASE": "5.1.6 (Build: 20260810)",
        }

        assert main(["--http-port", str(site.http_port)], environ=environ) == EXIT_PASSED

    output = capsys.readouterr().out
    assert f"GET {site.url}/status answered 200" in output
    assert f"JUnit XML report: {report}" in output
    cases = list(ET.parse(report).getroot().iter("testcase"))
    assert [case.get("name") for case in cases] == [check.name for check in CHECKS]
    assert all(case.find("failure") is None and case.find("skipped") is None for case in cases)


def test_options_win_over_the_environment() -> None:
    environ = {"SMOKE_URL": "https://wrong.invalid", "SMOKE_ALB_DNS_NAME": "", "SMOKE_HEALTH_PATH": "/nope"}
    with running_site(SiteBehaviour()) as site:
        assert main([*local_options(site), "--health-path", "/healthz"], environ=environ) == EXIT_PASSED


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        pytest.param([], {}, "a site URL is needed: --url or SMOKE_URL", id="no-url"),
        pytest.param([], {"SMOKE_URL": ""}, "a site URL is needed", id="empty-env-url"),
        pytest.param(["--url", "ftp://s.example"], {}, "expected an http:// or https:// URL", id="scheme"),
        pytest.param(["--url", SITE, "--health-path", "healthz"], {}, "must start with /", id="path"),
        pytest.param(["--url", SITE, "--http-port", "0"], {}, "must be a TCP port", id="port"),
        pytest.param(["--url", SITE, "--time-limit", "0"], {}, "must be positive", id="time-limit"),
        pytest.param([], {"SMOKE_URL": SITE, "SMOKE_CA_BUNDLE": "/no/such.pem"}, "not a file", id="ca"),
        pytest.param(["--url", SITE, "--insecure"], {}, "unrecognized arguments", id="unknown-option"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], environ: dict[str, str], message: str, capsys: Capture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv, environ=environ)

    assert exit_.value.code == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_python_dash_m_smoke_runs_the_program() -> None:
    with running_site(SiteBehaviour()) as site:
        finished = subprocess.run(
            [sys.executable, "-m", "smoke", "--http-port", str(site.http_port)],
            cwd=PROJECT_ROOT,
            env={"SMOKE_URL": site.url, "SMOKE_CA_BUNDLE": str(certificates().ca_certificate)},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    assert finished.returncode == EXIT_PASSED, finished.stdout + finished.stderr
    assert finished.stdout.endswith("8 passed, 0 failed, 2 skipped\n")
