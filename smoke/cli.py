"""Command line and environment of ``python -m smoke``: the pipeline passes stack outputs as env vars."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from smoke.report import summary_line, write_junit_xml
from smoke.runner import DEFAULT_HEALTH_PATH, SmokeSettings, failed, run_smoke
from smoke.site import InvalidSiteUrlError, Site

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
"""argparse itself exits with 2 on usage errors, and so does every other check of the arguments."""

ENVIRONMENT_FALLBACKS = {
    "url": "SMOKE_URL",
    "alb_dns_name": "SMOKE_ALB_DNS_NAME",
    "health_path": "SMOKE_HEALTH_PATH",
    "junit_xml": "SMOKE_JUNIT_XML",
    "ca_bundle": "SMOKE_CA_BUNDLE",
    "expected_release": "SMOKE_EXPECTED_RELEASE",
    "reported_release": "SMOKE_REPORTED_RELEASE",
}
"""Option to the environment variable read when the option is not given (an empty value is unset)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m smoke",
        description="Smoke-test a deployed Moodle site: HTTPS, redirects, login page, health, "
        "security headers, CDN caching, WAF, a private origin, no maintenance page and the Moodle "
        "release. See docs/SMOKE.md.",
    )
    parser.add_argument("--url", help="site URL, e.g. https://d111.cloudfront.net [SMOKE_URL]")
    parser.add_argument(
        "--alb-dns-name",
        help="DNS name of the internal ALB; must resolve to private addresses only [SMOKE_ALB_DNS_NAME]",
    )
    parser.add_argument(
        "--health-path", help=f"health endpoint path (default {DEFAULT_HEALTH_PATH}) [SMOKE_HEALTH_PATH]"
    )
    parser.add_argument("--junit-xml", type=Path, help="write a JUnit XML report here [SMOKE_JUNIT_XML]")
    parser.add_argument(
        "--ca-bundle", type=Path, help="trust only the CA certificates in this PEM file [SMOKE_CA_BUNDLE]"
    )
    parser.add_argument(
        "--expected-release", help='Moodle release the deploy installs, e.g. "5.1.6" [SMOKE_EXPECTED_RELEASE]'
    )
    parser.add_argument(
        "--reported-release",
        help="release the site's database reports after the deploy (the stack's MoodleRelease output) "
        "[SMOKE_REPORTED_RELEASE]",
    )
    parser.add_argument(
        "--http-port", type=int, default=80, help="port of the plain-HTTP listener to test (default 80)"
    )
    parser.add_argument(
        "--time-limit", type=float, default=600.0, help="seconds for the whole run (default 600)"
    )
    parser.add_argument(
        "--retry-until-healthy",
        type=float,
        default=300.0,
        help="seconds to wait for a fresh deploy to answer before checking; 0 to not wait (default 300)",
    )
    parser.add_argument(
        "--request-timeout", type=float, default=10.0, help="seconds for each HTTP request (default 10)"
    )
    return parser


def parse_settings(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None, environ: Mapping[str, str]
) -> tuple[SmokeSettings, Path | None]:
    """The run's settings and the JUnit XML path; any problem ends the program with exit code 2."""
    args = parser.parse_args(argv)
    for option, variable in ENVIRONMENT_FALLBACKS.items():
        if getattr(args, option) is None and environ.get(variable):
            value = environ[variable]
            setattr(args, option, Path(value) if option in {"junit_xml", "ca_bundle"} else value)
    if not args.url:
        parser.error("a site URL is needed: --url or SMOKE_URL")
    try:
        site = Site.from_url(args.url)
    except InvalidSiteUrlError as error:
        parser.error(str(error))
    health_path = args.health_path or DEFAULT_HEALTH_PATH
    if not health_path.startswith("/"):
        parser.error(f"the health path must start with /, got {health_path!r}")
    if not 0 < args.http_port < 65536:
        parser.error(f"--http-port must be a TCP port, got {args.http_port}")
    if args.time_limit <= 0 or args.request_timeout <= 0 or args.retry_until_healthy < 0:
        parser.error(
            "--time-limit and --request-timeout must be positive, --retry-until-healthy not negative"
        )
    if args.ca_bundle is not None and not args.ca_bundle.is_file():
        parser.error(f"CA bundle {args.ca_bundle} is not a file")
    settings = SmokeSettings(
        site=site,
        alb_dns_name=args.alb_dns_name or None,
        health_path=health_path,
        http_port=args.http_port,
        ca_bundle=args.ca_bundle,
        request_timeout=args.request_timeout,
        time_limit=args.time_limit,
        warm_up_seconds=args.retry_until_healthy,
        expected_release=args.expected_release or None,
        reported_release=args.reported_release or None,
    )
    return settings, args.junit_xml


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    settings, junit_path = parse_settings(build_parser(), argv, os.environ if environ is None else environ)
    print(f"smoke: checking {settings.site.url('/')} (time limit {settings.time_limit:g}s)", flush=True)
    results = run_smoke(settings, log=lambda line: print(line, flush=True))
    print(summary_line(results))
    if junit_path is not None:
        write_junit_xml(results, junit_path)
        print(f"JUnit XML report: {junit_path}")
    return EXIT_FAILED if failed(results) else EXIT_PASSED
