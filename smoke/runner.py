"""One smoke run: wait for a fresh deploy to answer, then run every check within the time limit."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from smoke.checks import CHECKS, Check, CheckContext, CheckFailedError, CheckSkippedError
from smoke.client import HttpClient, RequestFailedError, tls_context
from smoke.origin import Resolver, resolve_with_system_dns
from smoke.report import CheckResult, Outcome, format_line
from smoke.site import Site
from smoke.timing import Backoff, Deadline, RetryPolicy, TimeLimitReachedError

DEFAULT_HEALTH_PATH = "/healthz"
"""The container's health endpoint, as in moodle_infra.image_contract.HEALTH_CHECK_PATH."""

WARM_UP_BACKOFF = Backoff(first_delay=2.0, max_delay=30.0)
"""2, 4, 8, 16, 30, 30 ... seconds between polls of a fresh deploy."""

CHECK_RETRY = RetryPolicy(attempts=3, backoff=Backoff(first_delay=1.0, max_delay=8.0))
"""Rides out a dropped connection or a 502 while targets cycle, without hiding a broken site."""


@dataclass(frozen=True, kw_only=True)
class SmokeSettings:
    site: Site
    alb_dns_name: str | None = None
    health_path: str = DEFAULT_HEALTH_PATH
    http_port: int = 80
    ca_bundle: Path | None = None
    request_timeout: float = 10.0
    time_limit: float = 600.0
    warm_up_seconds: float = 300.0
    expected_release: str | None = None
    reported_release: str | None = None
    """How long to wait for a fresh deploy to answer before checking; 0 checks at once."""
    warm_up_backoff: Backoff = WARM_UP_BACKOFF
    check_retry: RetryPolicy = CHECK_RETRY


def run_smoke(
    settings: SmokeSettings,
    *,
    resolve: Resolver = resolve_with_system_dns,
    log: Callable[[str], None] = print,
) -> list[CheckResult]:
    """Every check's result, in order; ``log`` gets warm-up progress and a line per finished check."""
    deadline = Deadline(settings.time_limit)
    client = HttpClient(
        tls=tls_context(settings.ca_bundle),
        request_timeout=settings.request_timeout,
        deadline=deadline,
        retry=settings.check_retry,
    )
    ctx = CheckContext(
        site=settings.site,
        client=client,
        health_path=settings.health_path,
        http_port=settings.http_port,
        alb_dns_name=settings.alb_dns_name,
        resolve=resolve,
        expected_release=settings.expected_release,
        reported_release=settings.reported_release,
    )
    try:
        wait_until_answering(ctx, settings, deadline, log)
    except TimeLimitReachedError:
        log("warm-up: time limit reached")
    results = []
    for check in CHECKS:
        result = run_check(check, ctx, deadline)
        log(format_line(result))
        results.append(result)
    return results


def wait_until_answering(
    ctx: CheckContext, settings: SmokeSettings, deadline: Deadline, log: Callable[[str], None]
) -> None:
    """Poll the health path (or the site root) with growing pauses until it answers or time is up.

    A fresh deploy can take minutes before CloudFront, the ALB and the tasks all answer; the checks
    then get a settled site. When the wait runs out the checks run anyway and say what is wrong.
    """
    if settings.warm_up_seconds <= 0:
        return
    started = time.monotonic()
    for attempt in itertools.count(1):
        try:
            not_ready = probe(ctx)
        except RequestFailedError as error:
            log(f"warm-up: giving up, retrying cannot help: {error}")
            return
        waited = time.monotonic() - started
        if not_ready is None:
            log(f"warm-up: site answered after {attempt} attempt(s), {waited:.1f}s")
            return
        window_left = settings.warm_up_seconds - waited
        if window_left <= 0:
            log(f"warm-up: not answering after {waited:.1f}s ({not_ready}); running the checks anyway")
            return
        pause = min(settings.warm_up_backoff.delay(attempt), window_left)
        log(f"warm-up: attempt {attempt}: {not_ready}; next try in {pause:.1f}s")
        deadline.sleep(pause)


def probe(ctx: CheckContext) -> str | None:
    """None when the site answers; otherwise what was seen. Raises only for errors that will not heal."""
    health_url = ctx.site.url(ctx.health_path)
    try:
        health = ctx.client.get_once(health_url)
        if health.status == 200:
            return None
        root = ctx.client.get_once(ctx.site.url("/"))
    except RequestFailedError as error:
        if error.transient:
            return str(error)
        raise
    if 200 <= root.status < 400:
        return None
    return f"{health_url} answered {health.status}, {root.url} answered {root.status}"


def run_check(check: Check, ctx: CheckContext, deadline: Deadline) -> CheckResult:
    started = time.monotonic()

    def result(outcome: Outcome, message: str) -> CheckResult:
        return CheckResult(check.name, outcome, time.monotonic() - started, message)

    try:
        deadline.ensure_time_left()
        return result(Outcome.PASS, check.run(ctx))
    except CheckSkippedError as skipped:
        return result(Outcome.SKIP, str(skipped))
    except (CheckFailedError, RequestFailedError, TimeLimitReachedError) as failure:
        return result(Outcome.FAIL, str(failure))
    except Exception as error:  # a bug in a check must not hide the other checks' results
        return result(Outcome.FAIL, f"unexpected error: {type(error).__name__}: {error}")


def failed(results: Sequence[CheckResult]) -> bool:
    return any(result.outcome is Outcome.FAIL for result in results)
