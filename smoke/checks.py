"""The ten smoke checks. Each returns what it saw when it passes and raises when it does not."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urljoin

from smoke.client import HttpClient, Response
from smoke.headers import cache_control_problem, cdn_cache_evidence, security_header_problems
from smoke.origin import Resolver, is_globally_routable
from smoke.page import LOGIN_PATH, missing_login_fields, posts_to_login, summarise, theme_asset_urls
from smoke.site import DEFAULT_PORTS, Origin, Site

SQL_INJECTION_PROBES = (
    LOGIN_PATH + "?username=" + quote("' OR '1'='1' --"),
    "/course/view.php?id=" + quote("1 UNION SELECT password FROM mdl_user"),
)
"""Requests AWS's managed SQL-injection rules block; harmless to Moodle if they get through."""


class CheckFailedError(Exception):
    """The site is not as it should be; the message says what was expected and what was seen."""


class CheckSkippedError(Exception):
    """The check does not apply to this run; the message says why."""


@dataclass(frozen=True)
class CheckContext:
    site: Site
    client: HttpClient
    health_path: str
    http_port: int
    alb_dns_name: str | None
    resolve: Resolver
    expected_release: str | None = None
    """The Moodle release the deploy should have installed, e.g. "5.1.6" (cdk.json)."""
    reported_release: str | None = None
    """The release the site's database holds after the deploy, e.g. "5.1.6 (Build: 20260810)"."""


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[CheckContext], str]


def expect_status(response: Response, expected: int) -> None:
    if response.status != expected:
        seen = f"{response.status}"
        if response.is_redirect:
            seen += f" redirecting to {response.location}"
        raise CheckFailedError(f"expected {expected} from GET {response.url}, got {seen}")


def check_https(ctx: CheckContext) -> str:
    """CloudFront serves the site over HTTPS with a certificate the client trusts."""
    if ctx.site.origin.scheme != "https":
        raise CheckFailedError(f"expected an https:// site URL, got {ctx.site.origin}")
    response = ctx.client.get(ctx.site.url("/"))
    if not 200 <= response.status < 400:
        raise CheckFailedError(f"expected 2xx or 3xx from GET {response.url}, got {response.status}")
    return f"GET {response.url} answered {response.status}"


def check_http_redirect(ctx: CheckContext) -> str:
    """Nobody who types http:// stays on plain HTTP: the CDN sends them to HTTPS on the same host."""
    https_port = ctx.site.origin.port if ctx.site.origin.scheme == "https" else DEFAULT_PORTS["https"]
    expected = Origin("https", ctx.site.origin.host, https_port)
    response = ctx.client.get(ctx.site.plain_http_url("/", ctx.http_port))
    if not response.is_redirect:
        raise CheckFailedError(
            f"expected a redirect (301/302/303/307/308) from GET {response.url} to {expected}/, "
            f"got {response.status}"
        )
    if response.location is None or Origin.of(response.location) != expected:
        raise CheckFailedError(
            f"expected GET {response.url} to redirect to {expected}/, "
            f"got {response.status} to {response.location or 'no Location header'}"
        )
    return f"GET {response.url} answered {response.status} to {response.location}"


def fetch_login_page(ctx: CheckContext) -> Response:
    """The login page, through redirects within the site only: one off the site is a failure."""
    response = ctx.client.get(ctx.site.url(LOGIN_PATH), follow_same_origin_redirects=True)
    expect_status(response, 200)
    return response


def check_login_page(ctx: CheckContext) -> str:
    """Moodle itself answers through CDN, WAF and ALB: PHP, the database and sessions all work."""
    page = fetch_login_page(ctx)
    forms = [form for form in summarise(page.text).forms if posts_to_login(form, page.url)]
    if not forms:
        raise CheckFailedError(
            f"expected a <form> whose action ends in {LOGIN_PATH} on {page.url}, found none"
        )
    gaps: list[list[str]] = []
    for form in forms:
        action = urljoin(page.url, form.action)
        off_site = [] if ctx.site.is_same_origin(action) else [f"an action on the site (has {action})"]
        gaps.append(missing_login_fields(form) + off_site)
    if not all(gaps):
        return f"login form with username, password and logintoken on {page.url}"
    closest = min(gaps, key=len)
    raise CheckFailedError(
        f"expected Moodle's login form (username, password, hidden logintoken) on {page.url}; "
        f"the form posting to {LOGIN_PATH} lacks {', '.join(closest)}"
    )


def check_health(ctx: CheckContext) -> str:
    """The endpoint the ALB health check uses is reachable end to end."""
    response = ctx.client.get(ctx.site.url(ctx.health_path))
    expect_status(response, 200)
    return f"GET {response.url} answered 200"


def check_security_headers(ctx: CheckContext) -> str:
    """The CDN's response headers policy is attached to what users actually load."""
    page = ctx.client.get(ctx.site.url(LOGIN_PATH), follow_same_origin_redirects=True)
    problems = security_header_problems(page)
    if problems:
        raise CheckFailedError(f"on GET {page.url} ({page.status}): {'; '.join(problems)}")
    return f"HSTS, nosniff, framing and referrer policies present on GET {page.url}"


def check_static_asset_cached(ctx: CheckContext) -> str:
    """Theme assets may be cached by the CDN, so page loads do not all reach the Fargate tasks."""
    page = fetch_login_page(ctx)
    assets = theme_asset_urls(summarise(page.text), page.url)
    if not assets:
        raise CheckFailedError(
            f"expected a versioned theme asset URL (/theme/styles.php/... or the like) on {page.url}, "
            "found none"
        )
    asset = assets[0]
    if not ctx.site.is_same_origin(asset):
        raise CheckFailedError(f"expected theme assets on {ctx.site.origin}, {page.url} links {asset}")
    first = ctx.client.get(asset)
    expect_status(first, 200)
    problem = cache_control_problem(first.header("Cache-Control"))
    if problem:
        raise CheckFailedError(
            f"expected {asset} to be publicly cacheable (Cache-Control max-age > 0, "
            f"no private/no-store/no-cache), got {problem}"
        )
    second = ctx.client.get(asset)
    return (
        f"{asset}: Cache-Control {first.header('Cache-Control')!r}; "
        f"CDN on second request: {cdn_cache_evidence(second)}"
    )


def check_waf_blocks_sqli(ctx: CheckContext) -> str:
    """The WAF web ACL is attached to the distribution and its SQL-injection rules block."""
    answers = [ctx.client.get(ctx.site.url(probe)) for probe in SQL_INJECTION_PROBES]
    passed_through = [f"{answer.url} answered {answer.status}" for answer in answers if answer.status != 403]
    if passed_through:
        raise CheckFailedError(
            f"expected 403 from the WAF for SQL-injection probes; {'; '.join(passed_through)}"
        )
    return f"{len(answers)} SQL-injection probes answered 403"


def check_origin_private(ctx: CheckContext) -> str:
    """The ALB cannot be reached from the internet, so CloudFront and the WAF cannot be bypassed."""
    name = ctx.alb_dns_name
    if not name:
        raise CheckSkippedError("no ALB DNS name given (--alb-dns-name or SMOKE_ALB_DNS_NAME)")
    try:
        addresses = ctx.resolve(name)
    except OSError as error:
        raise CheckFailedError(
            f"expected {name} to resolve to private addresses, lookup failed: {error}"
        ) from error
    if not addresses:
        raise CheckFailedError(f"expected {name} to resolve to private addresses, got none")
    public = [address for address in addresses if is_globally_routable(address)]
    if public:
        raise CheckFailedError(
            f"expected {name} to resolve only to private (not globally routable) addresses, "
            f"got public {', '.join(public)} among {', '.join(addresses)}"
        )
    return f"{name} resolves to {', '.join(addresses)}, none globally routable"


def check_out_of_maintenance(ctx: CheckContext) -> str:
    """The deploy lifted Moodle's maintenance page: it stays up only when an upgrade failed half-way or
    a rollback followed one (docs/UPGRADES.md)."""
    response = ctx.client.get(ctx.site.url(LOGIN_PATH), follow_same_origin_redirects=True)
    if response.status == 503:
        retry_after = response.header("Retry-After")
        shown = "Moodle's maintenance page" if retry_after else "503 without Retry-After"
        raise CheckFailedError(
            f"expected the site out of maintenance, GET {response.url} answered {shown} "
            f"(503{f', Retry-After {retry_after}' if retry_after else ''}): an upgrade failed half-way or "
            "was rolled back; see docs/UPGRADES.md"
        )
    return f"GET {response.url} answered {response.status}, not the maintenance page"


def release_matches(reported: str, expected: str) -> bool:
    """ "5.1.6 (Build: 20260810)" and "5.1.6+ (Build: ...)" are release 5.1.6; "5.1.60" is not."""
    return re.match(rf"{re.escape(expected)}\+?(?:\s|$)", reported) is not None


def check_moodle_release(ctx: CheckContext) -> str:
    """The site runs the release this deploy was meant to install (cdk.json's moodle_release)."""
    expected, reported = ctx.expected_release, ctx.reported_release
    if not expected or not reported:
        raise CheckSkippedError(
            "needs the expected and the reported release (--expected-release and --reported-release, "
            "or SMOKE_EXPECTED_RELEASE and SMOKE_REPORTED_RELEASE)"
        )
    if not release_matches(reported, expected):
        raise CheckFailedError(f"expected Moodle {expected}, the site's database reports {reported!r}")
    return f"the site's database reports {reported!r}, release {expected} as expected"


CHECKS = (
    Check("https", check_https),
    Check("http-redirect", check_http_redirect),
    Check("login-page", check_login_page),
    Check("health", check_health),
    Check("security-headers", check_security_headers),
    Check("static-asset-cached", check_static_asset_cached),
    Check("waf-blocks-sqli", check_waf_blocks_sqli),
    Check("origin-private", check_origin_private),
    Check("out-of-maintenance", check_out_of_maintenance),
    Check("moodle-release", check_moodle_release),
)
