"""Whole smoke runs against local fake sites: healthy, broken one way at a time, slow to start, too slow."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from smoke.checks import CHECKS
from smoke.origin import Resolver
from smoke.report import CheckResult, Outcome
from smoke.runner import run_smoke
from smoke.timing import Backoff, RetryPolicy
from tests.smoke.smoke_fake_site import (
    CDN_SECURITY_HEADERS,
    LOGIN_PAGE,
    SiteBehaviour,
    fast_settings,
    running_site,
)

ALB_NAME = "internal-moodle-123.eu-west-1.elb.amazonaws.com"
CHECK_NAMES = [check.name for check in CHECKS]


def resolver(*addresses: str) -> Resolver:
    return lambda host: list(addresses) if host == ALB_NAME else []


PRIVATE_ALB = resolver("10.0.1.17", "10.0.2.33")


@dataclass(frozen=True)
class SmokeRun:
    site_url: str
    results: list[CheckResult]
    log: list[str]
    seconds: float

    def outcome(self, name: str) -> Outcome:
        return next(result.outcome for result in self.results if result.name == name)

    def message(self, name: str) -> str:
        return next(result.message for result in self.results if result.name == name)

    @property
    def failures(self) -> dict[str, str]:
        return {result.name: result.message for result in self.results if result.outcome is Outcome.FAIL}


def smoke_run(behaviour: SiteBehaviour, resolve: Resolver = PRIVATE_ALB, **settings: Any) -> SmokeRun:
    """Run every check against a fake site that behaves as told, with fast test settings."""
    with running_site(behaviour) as site:
        log: list[str] = []
        started = time.monotonic()
        results = run_smoke(fast_settings(site, **settings), resolve=resolve, log=log.append)
        return SmokeRun(site.url, results, log, time.monotonic() - started)


def without_headers(*names: str) -> dict[str, str]:
    return {name: value for name, value in CDN_SECURITY_HEADERS.items() if name not in names}


RELEASES: dict[str, Any] = {"expected_release": "5.1.6", "reported_release": "5.1.6 (Build: 20260810)"}


def test_a_healthy_site_passes_every_check() -> None:
    run = smoke_run(SiteBehaviour(), alb_dns_name=ALB_NAME, **RELEASES)

    assert [result.name for result in run.results] == CHECK_NAMES
    assert [result.outcome for result in run.results] == [Outcome.PASS] * len(CHECKS)
    asset = run.message("static-asset-cached")
    assert "/theme/styles.php/boost/1700000000_1/all" in asset, "styles.php is preferred over other assets"
    assert "X-Cache 'Hit from cloudfront'" in asset
    assert run.log[0].startswith("warm-up: site answered after 1 attempt(s), ")
    assert run.log[1].startswith("PASS https (")


def test_origin_private_is_skipped_without_an_alb_name() -> None:
    run = smoke_run(SiteBehaviour(), **RELEASES)

    assert run.failures == {}
    assert run.outcome("origin-private") is Outcome.SKIP
    assert "no ALB DNS name given" in run.message("origin-private")


BROKEN_SITES = [
    pytest.param("https", SiteBehaviour(root_status=404), ["expected 2xx or 3xx", "got 404"], id="root-404"),
    pytest.param(
        "http-redirect",
        SiteBehaviour(plain_http_redirect_to=None),
        ["expected a redirect (301/302/303/307/308)", "got 200"],
        id="plain-http-served",
    ),
    pytest.param(
        "http-redirect",
        SiteBehaviour(plain_http_redirect_to="http://127.0.0.1:{http_port}/moved"),
        ["to https://127.0.0.1:", "got 301 to http://127.0.0.1:"],
        id="redirect-stays-on-http",
    ),
    pytest.param(
        "http-redirect",
        SiteBehaviour(plain_http_redirect_to="https://localhost:{https_port}"),
        ["got 301 to https://localhost:"],
        id="redirect-to-another-host",
    ),
    pytest.param(
        "login-page",
        SiteBehaviour(login_page=LOGIN_PAGE.replace('name="logintoken"', 'name="sesskey"')),
        ["lacks input 'logintoken'"],
        id="no-logintoken",
    ),
    pytest.param(
        "login-page",
        SiteBehaviour(login_page=LOGIN_PAGE.replace('type="password"', 'type="text"')),
        ["lacks input 'password' of type password (is text)"],
        id="password-shown",
    ),
    pytest.param(
        "login-page",
        SiteBehaviour(login_page=LOGIN_PAGE.replace("/login/index.php", "/login/signup.php")),
        ["expected a <form> whose action ends in /login/index.php", "found none"],
        id="form-posts-elsewhere",
    ),
    pytest.param(
        "login-page",
        SiteBehaviour(login_page=LOGIN_PAGE.replace('action="{origin}', 'action="http://127.0.0.1')),
        ["lacks an action on the site (has http://127.0.0.1/login/index.php)"],
        id="form-posts-over-http",
    ),
    pytest.param("health", SiteBehaviour(health_status=404), ["/healthz, got 404"], id="health-404"),
    pytest.param(
        "security-headers",
        SiteBehaviour(security_headers=without_headers("Strict-Transport-Security", "Referrer-Policy")),
        ["Strict-Transport-Security missing", "Referrer-Policy missing"],
        id="no-hsts-no-referrer-policy",
    ),
    pytest.param(
        "security-headers",
        SiteBehaviour(security_headers={**CDN_SECURITY_HEADERS, "Strict-Transport-Security": "max-age=300"}),
        ["Strict-Transport-Security needs max-age >= 31536000, got 'max-age=300'"],
        id="short-hsts",
    ),
    pytest.param(
        "security-headers",
        SiteBehaviour(security_headers=without_headers("X-Frame-Options", "X-Content-Type-Options")),
        ["X-Content-Type-Options missing", "X-Frame-Options missing"],
        id="no-nosniff-no-framing",
    ),
    pytest.param(
        "static-asset-cached",
        SiteBehaviour(asset_cache_control="no-store, no-cache, must-revalidate"),
        ["publicly cacheable", "has no-store, no-cache"],
        id="asset-no-store",
    ),
    pytest.param(
        "static-asset-cached",
        SiteBehaviour(asset_cache_control="private, max-age=600"),
        ["has private"],
        id="asset-private",
    ),
    pytest.param(
        "static-asset-cached",
        SiteBehaviour(asset_cache_control="public, max-age=0"),
        ["has no max-age > 0"],
        id="asset-max-age-0",
    ),
    pytest.param(
        "static-asset-cached",
        SiteBehaviour(asset_cache_control=None),
        ["no Cache-Control"],
        id="asset-no-header",
    ),
    pytest.param(
        "static-asset-cached",
        SiteBehaviour(login_page=LOGIN_PAGE.replace("/theme/", "/pix/").replace("/lib/", "/js/")),
        ["expected a versioned theme asset URL", "found none"],
        id="no-theme-asset-on-page",
    ),
    pytest.param(
        "waf-blocks-sqli",
        SiteBehaviour(waf_blocks_sql_injection=False),
        ["expected 403", "username=%27%20OR%20%271%27%3D%271%27%20-- answered 200", "answered 404"],
        id="no-waf",
    ),
]


@pytest.mark.parametrize(("broken_check", "behaviour", "reason_parts"), BROKEN_SITES)
def test_a_site_broken_one_way_fails_only_that_check(
    broken_check: str, behaviour: SiteBehaviour, reason_parts: list[str]
) -> None:
    run = smoke_run(behaviour, alb_dns_name=ALB_NAME, **RELEASES)

    assert list(run.failures) == [broken_check]
    for part in reason_parts:
        assert part in run.failures[broken_check]


def test_a_site_left_in_maintenance_fails_and_says_where_to_look() -> None:
    run = smoke_run(SiteBehaviour(maintenance=True), alb_dns_name=ALB_NAME, **RELEASES)

    message = run.failures["out-of-maintenance"]
    assert "answered Moodle's maintenance page (503, Retry-After 300)" in message
    assert "docs/UPGRADES.md" in message
    assert run.outcome("health") is Outcome.PASS


@pytest.mark.parametrize(
    "reported", ["5.0.6+ (Build: 20260403)", "5.1.60 (Build: 20290101)", "5.1 (Build: 20251006)"]
)
def test_a_site_on_another_release_fails_only_the_release_check(reported: str) -> None:
    run = smoke_run(
        SiteBehaviour(), alb_dns_name=ALB_NAME, expected_release="5.1.6", reported_release=reported
    )

    assert run.failures == {
        "moodle-release": f"expected Moodle 5.1.6, the site's database reports {reported!r}"
    }


def test_a_weekly_build_of_the_expected_release_passes() -> None:
    run = smoke_run(SiteBehaviour(), expected_release="5.0.6", reported_release="5.0.6+ (Build: 20260403)")

    assert run.outcome("moodle-release") is Outcome.PASS


@pytest.mark.parametrize(
    ("reported", "outcome"),
    [
        ("5.3 (Build: 20261005)", Outcome.PASS),
        ("5.3+ (Build: 20261012)", Outcome.PASS),
        ("5.3.1 (Build: 20261207)", Outcome.FAIL),
        ("5.1.6 (Build: 20260810)", Outcome.FAIL),
    ],
)
def test_the_first_release_of_a_branch_is_told_from_its_point_releases(
    reported: str, outcome: Outcome
) -> None:
    """cdk.json names Moodle 5.3.0 "5.3", as Moodle does (docs/IMAGE.md, "Moodle 5.3 LTS")."""
    run = smoke_run(SiteBehaviour(), alb_dns_name=ALB_NAME, expected_release="5.3", reported_release=reported)

    assert run.outcome("moodle-release") is outcome


def test_the_release_check_is_skipped_without_releases() -> None:
    run = smoke_run(SiteBehaviour(), alb_dns_name=ALB_NAME)

    assert run.failures == {}
    assert run.outcome("moodle-release") is Outcome.SKIP


def test_a_public_alb_fails_only_origin_private() -> None:
    run = smoke_run(SiteBehaviour(), resolve=resolver("10.0.1.17", "52.95.110.1"), alb_dns_name=ALB_NAME)

    assert run.failures == {
        "origin-private": f"expected {ALB_NAME} to resolve only to private (not globally routable) "
        "addresses, got public 52.95.110.1 among 10.0.1.17, 52.95.110.1"
    }


def test_a_login_redirect_off_the_site_is_not_followed() -> None:
    run = smoke_run(SiteBehaviour(login_redirect_to="https://elsewhere.invalid/login/index.php"))

    assert run.failures["login-page"] == (
        f"expected 200 from GET {run.site_url}/login/index.php, "
        "got 303 redirecting to https://elsewhere.invalid/login/index.php"
    )


def test_a_login_redirect_within_the_site_is_followed() -> None:
    run = smoke_run(SiteBehaviour(login_redirect_to="{origin}/login/index.php?lang=en"))

    assert run.failures == {}
    assert run.message("login-page").endswith("/login/index.php?lang=en")


def test_warm_up_waits_for_a_fresh_deploy() -> None:
    run = smoke_run(SiteBehaviour(unavailable_requests=4))

    assert run.log[0].startswith("warm-up: attempt 1: ")
    assert "/healthz answered 503" in run.log[0]
    assert run.log[2].startswith("warm-up: site answered after 3 attempt(s)")
    assert run.failures == {}


def test_warm_up_gives_up_after_its_window_and_the_checks_say_why() -> None:
    one_retry = RetryPolicy(attempts=2, backoff=Backoff(first_delay=0.01, max_delay=0.01))

    run = smoke_run(SiteBehaviour(unavailable_requests=10**6), warm_up_seconds=0.1, check_retry=one_retry)

    (gave_up,) = [line for line in run.log if line.startswith("warm-up: not answering after ")]
    assert float(gave_up.split()[4].removesuffix("s")) < 1, "the 0.1 s window ends the wait"
    assert run.failures["https"] == f"expected 2xx or 3xx from GET {run.site_url}/, got 503"
    assert run.failures["health"] == f"expected 200 from GET {run.site_url}/healthz, got 503"


def test_checks_retry_server_errors() -> None:
    run = smoke_run(SiteBehaviour(health_failures=2), warm_up_seconds=0)

    assert run.failures == {}


def test_checks_give_up_after_their_attempts() -> None:
    run = smoke_run(SiteBehaviour(health_failures=3), warm_up_seconds=0)

    assert run.failures == {"health": f"expected 200 from GET {run.site_url}/healthz, got 502"}


def test_the_time_limit_stops_the_run_and_fails_what_is_left() -> None:
    run = smoke_run(SiteBehaviour(delay_seconds=0.1), time_limit=0.4, warm_up_seconds=0)

    assert run.seconds < 1, "the request under way is cut short, not waited for"
    outcomes = [result.outcome for result in run.results]
    first_failure = outcomes.index(Outcome.FAIL)
    assert first_failure > 0, "the first check has time enough"
    assert outcomes[first_failure:] == [Outcome.FAIL] * (len(CHECKS) - first_failure)
    assert set(run.failures.values()) == {"time limit reached"}


def test_tls_verification_is_on_by_default() -> None:
    run = smoke_run(SiteBehaviour(), ca_bundle=None, warm_up_seconds=30)

    assert run.seconds < 2, "an untrusted certificate ends the warm-up at once"
    assert run.log[0].startswith("warm-up: giving up, retrying cannot help")
    assert "TLS certificate not trusted" in run.failures["https"]
    assert "http-redirect" not in run.failures, "the plain-HTTP redirect needs no certificate"
