"""A small HTTP(S) client that never follows redirects blindly and retries only transient trouble.

Redirects are part of what the smoke test checks (HTTP to HTTPS, no redirect off the site), so the
client returns them instead of following them, except same-origin ones when a check asks for that.
"""

from __future__ import annotations

import http.client
import ssl
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from smoke.site import DEFAULT_PORTS, Origin
from smoke.timing import Deadline, RetryPolicy

USER_AGENT = "moodle-smoke/1 (+docs/SMOKE.md)"
MAX_BODY_BYTES = 4 * 1024 * 1024
"""Enough for Moodle's login page; larger bodies (theme CSS) are cut off, their headers are what counts."""
MAX_SAME_ORIGIN_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class RequestFailedError(Exception):
    """No HTTP response came back; ``transient`` says whether trying again later could help."""

    def __init__(self, url: str, cause: BaseException, *, transient: bool) -> None:
        super().__init__(f"GET {url} failed: {describe_error(cause)}")
        self.transient = transient


def describe_error(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({error.verify_message})"
    if isinstance(error, TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}"


def is_transient(error: BaseException) -> bool:
    """Network errors may heal (DNS propagating, targets registering); an untrusted certificate won't."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return False
    return isinstance(error, OSError | http.client.HTTPException)


def tls_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Certificate and host name verification always on; a CA bundle replaces the system CAs."""
    return ssl.create_default_context(cafile=str(ca_bundle) if ca_bundle else None)


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    headers: Message
    body: bytes

    def header(self, name: str) -> str | None:
        """All values of a header joined with ", " (as RFC 9110 allows), or None when absent."""
        values = self.headers.get_all(name)
        return ", ".join(str(value) for value in values) if values else None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def is_redirect(self) -> bool:
        return self.status in REDIRECT_STATUSES

    @property
    def location(self) -> str | None:
        """The redirect target made absolute."""
        location = self.header("Location")
        return urljoin(self.url, location) if location else None


class HttpClient:
    def __init__(
        self,
        *,
        tls: ssl.SSLContext,
        request_timeout: float,
        deadline: Deadline,
        retry: RetryPolicy,
    ) -> None:
        self._tls = tls
        self._request_timeout = request_timeout
        self._deadline = deadline
        self._retry = retry

    def get(self, url: str, *, follow_same_origin_redirects: bool = False) -> Response:
        """GET with retries on network errors and 5xx; the last 5xx is returned for the check to judge."""
        response = self.get_with_retries(url)
        origin = Origin.of(url)
        for _ in range(MAX_SAME_ORIGIN_REDIRECTS if follow_same_origin_redirects else 0):
            target = response.location
            if not response.is_redirect or target is None or Origin.of(target) != origin:
                break
            response = self.get_with_retries(target)
        return response

    def get_with_retries(self, url: str) -> Response:
        for attempt in range(1, self._retry.attempts + 1):
            last_attempt = attempt == self._retry.attempts
            try:
                response = self.get_once(url)
            except RequestFailedError as error:
                if not error.transient or last_attempt:
                    raise
            else:
                if response.status < 500 or last_attempt:
                    return response
            self._deadline.sleep(self._retry.backoff.delay(attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    def get_once(self, url: str) -> Response:
        """One GET, its timeout cut short by the deadline; a deadline hit counts as the time limit."""
        parts = urlsplit(url)
        timeout = self._deadline.cap(self._request_timeout)
        # An explicit port stops http.client from reading the last group of an IPv6 address as one.
        host, port = parts.hostname or "", parts.port or DEFAULT_PORTS[parts.scheme]
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=self._tls)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            connection.request("GET", target, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
            answer = connection.getresponse()
            body = answer.read(MAX_BODY_BYTES)
            return Response(url, answer.status, answer.msg, body)
        except (OSError, http.client.HTTPException) as error:
            self._deadline.ensure_time_left()
            raise RequestFailedError(url, error, transient=is_transient(error)) from error
        finally:
            connection.close()
