"""The small rules behind the checks: header parsing, Moodle's HTML, site URLs and backoff."""

from __future__ import annotations

from email.message import Message

import pytest

from moodle_infra.image_contract import HEALTH_CHECK_PATH
from smoke.client import Response
from smoke.headers import cache_control_problem, cdn_cache_evidence, security_header_problems
from smoke.page import missing_login_fields, posts_to_login, summarise, theme_asset_urls
from smoke.runner import DEFAULT_HEALTH_PATH
from smoke.site import InvalidSiteUrlError, Site
from smoke.timing import Backoff, Deadline, TimeLimitReachedError

GOOD_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def response(headers: dict[str, str], *repeated: tuple[str, str]) -> Response:
    """A response with ``headers``, then each of the ``repeated`` ones sent once more."""
    message = Message()
    for name, value in [*headers.items(), *repeated]:
        message[name] = value
    return Response("https://site.example/", 200, message, b"")


def test_the_default_health_path_is_the_image_contract_one() -> None:
    assert DEFAULT_HEALTH_PATH == HEALTH_CHECK_PATH


def test_security_headers_of_a_good_response_pass() -> None:
    assert security_header_problems(response(GOOD_HEADERS)) == []


def test_repeated_headers_are_judged_as_browsers_do() -> None:
    repeats = [
        ("X-Frame-Options", "deny"),
        ("Strict-Transport-Security", "max-age=0"),
        ("X-Content-Type-Options", "nosniff"),
    ]
    assert security_header_problems(response(GOOD_HEADERS, *repeats)) == []

    (problem,) = security_header_problems(response(GOOD_HEADERS, *repeats, ("X-Frame-Options", "SAMEORIGIN")))
    assert problem == "X-Frame-Options must be DENY or SAMEORIGIN, got 'DENY, deny, SAMEORIGIN'"


def test_csp_frame_ancestors_stands_in_for_x_frame_options() -> None:
    headers = {name: value for name, value in GOOD_HEADERS.items() if name != "X-Frame-Options"}
    headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"

    assert security_header_problems(response(headers)) == []


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"Strict-Transport-Security": "max-age=31535999"}, "needs max-age >= 31536000"),
        ({"Strict-Transport-Security": "includeSubDomains"}, "needs max-age >= 31536000"),
        ({"X-Content-Type-Options": "sniff"}, "X-Content-Type-Options must be nosniff, got 'sniff'"),
        ({"X-Frame-Options": "ALLOW-FROM https://x"}, "X-Frame-Options must be DENY or SAMEORIGIN"),
        ({"Referrer-Policy": " "}, "Referrer-Policy missing"),
    ],
)
def test_weak_security_headers_are_named(changes: dict[str, str], problem: str) -> None:
    (seen,) = security_header_problems(response({**GOOD_HEADERS, **changes}))

    assert problem in seen


def test_every_missing_security_header_is_named() -> None:
    problems = security_header_problems(response({"Content-Security-Policy": "default-src 'self'"}))

    assert problems == [
        "Strict-Transport-Security missing",
        "X-Content-Type-Options missing",
        "X-Frame-Options missing (and no Content-Security-Policy frame-ancestors)",
        "Referrer-Policy missing",
    ]


@pytest.mark.parametrize(
    ("cache_control", "problem"),
    [
        ("public, max-age=604800, immutable", None),
        ('max-age="60"', None),
        ("public, s-maxage=600", "Cache-Control 'public, s-maxage=600' has no max-age > 0"),
        ("max-age=600, no-cache", "Cache-Control 'max-age=600, no-cache' has no-cache"),
        (None, "no Cache-Control header"),
    ],
)
def test_cache_control_must_let_the_cdn_keep_the_asset(
    cache_control: str | None, problem: str | None
) -> None:
    assert cache_control_problem(cache_control) == problem


def test_cdn_evidence_is_reported_when_present_and_absent() -> None:
    assert cdn_cache_evidence(response({"X-Cache": "Hit from cloudfront", "Age": "3"})) == (
        "X-Cache 'Hit from cloudfront', Age '3'"
    )
    assert cdn_cache_evidence(response({})).startswith("no X-Cache or Age header")


def test_login_forms_and_assets_are_found_in_moodle_html() -> None:
    page = summarise(
        '<link href="/theme/image.php/boost/core/1/favicon">'
        '<script src="/lib/javascript.php/1/x.js"></script>'
        '<link rel="stylesheet" href="https://s.example/theme/styles.php/boost/1_1/all">'
        '<form action="index.php"><input name="username"><input name="password" type="PASSWORD">'
        '<input type="hidden" name="logintoken"></form><input name="outside">'
    )
    (form,) = page.forms

    assert posts_to_login(form, "https://s.example/login/index.php")
    assert not posts_to_login(form, "https://s.example/course/view.php")
    assert missing_login_fields(form) == []
    assert theme_asset_urls(page, "https://s.example/login/index.php") == [
        "https://s.example/theme/styles.php/boost/1_1/all",
        "https://s.example/lib/javascript.php/1/x.js",
        "https://s.example/theme/image.php/boost/core/1/favicon",
    ]


def test_site_urls_keep_the_base_path_and_the_host() -> None:
    site = Site.from_url("https://Moodle.Example:8443/moodle/")

    assert site.url("/login/index.php") == "https://moodle.example:8443/moodle/login/index.php"
    assert site.plain_http_url("/", 80) == "http://moodle.example/moodle/"
    assert Site.from_url("https://[fd00::1]").plain_http_url("/", 8080) == "http://[fd00::1]:8080/"
    assert site.is_same_origin("https://moodle.example:8443/theme/styles.php")
    assert not site.is_same_origin("https://moodle.example/theme/styles.php")


@pytest.mark.parametrize("url", ["ftp://site.example", "https://", "site.example", "https://s.example/?a=1"])
def test_site_urls_must_name_a_site(url: str) -> None:
    with pytest.raises(InvalidSiteUrlError):
        Site.from_url(url)


def test_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(first_delay=2.0, max_delay=30.0)

    assert [backoff.delay(retry) for retry in range(1, 7)] == [2, 4, 8, 16, 30, 30]


def test_the_deadline_cuts_timeouts_and_pauses_short() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    deadline = Deadline(10, clock=lambda: now[0], sleep=sleep)

    assert deadline.cap(4) == 4
    deadline.sleep(8)
    assert deadline.cap(4) == 2
    with pytest.raises(TimeLimitReachedError, match="time limit reached"):
        deadline.sleep(5)
    assert slept == [8, 2]
    with pytest.raises(TimeLimitReachedError):
        deadline.cap(1)
