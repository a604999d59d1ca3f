"""A local stand-in for Moodle behind CloudFront and WAF: an HTTPS site plus a plain-HTTP listener.

Each ``SiteBehaviour`` field describes one thing the real stack does; a test changes one field to
break exactly one smoke check.
"""

from __future__ import annotations

import re
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import socket
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from smoke.runner import SmokeSettings
from smoke.site import Site
from smoke.timing import Backoff, RetryPolicy
from tests.smoke.smoke_certificates import certificates

LOGIN_PAGE = """<!DOCTYPE html>
<html dir="ltr" lang="en"><head>
<title>Log in to the site | Moodle</title>
<link rel="shortcut icon" href="{origin}/theme/image.php/boost/theme/1700000000/favicon" />
<link rel="stylesheet" href="{origin}/theme/yui_combo.php?rollup/3.18.1/yui-moodlesimple-min.css" />
<script src="{origin}/lib/javascript.php/1700000000/lib/babel-polyfill/polyfill.min.js"></script>
<link rel="stylesheet" type="text/css" href="{origin}/theme/styles.php/boost/1700000000_1/all" />
</head><body id="page-login-index">
<form class="login-form" action="{origin}/login/index.php" method="post" id="login">
  <input id="anchor" type="hidden" name="anchor" value="">
  <input type="hidden" name="logintoken" value="Zm9vYmFyYmF6">
  <input type="text" name="username" id="username" value="" autocomplete="username">
  <input type="password" name="password" id="password" value="" autocomplete="current-password">
  <button class="btn btn-primary" type="submit" id="loginbtn">Log in</button>
</form>
<form action="{origin}/login/index.php" method="post" id="guestlogin">
  <input type="hidden" name="logintoken" value="Zm9vYmFyYmF6">
  <input type="hidden" name="username" value="guest" />
  <input type="hidden" name="password" value="guest" />
  <button class="btn btn-secondary" type="submit">Access as a guest</button>
</form>
</body></html>
"""

CDN_SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
"""What the CloudFront response headers policy adds to every response."""

MAINTENANCE_PAGE = (
    "<html><body>The site is undergoing maintenance and is currently not available</body></html>"
)
"""What Moodle's CLI maintenance mode serves (lib/setup.php), with 503 and Retry-After: 300."""

SQL_INJECTION = re.compile(r"'\s*or\s*'|union\s+select", re.IGNORECASE)
"""A crude stand-in for AWS's managed SQL-injection rule set."""


@dataclass
class SiteBehaviour:
    root_status: int = 200
    health_path: str = "/healthz"
    health_status: int = 200
    health_failures: int = 0
    """The first this many health requests answer 502, as while ECS tasks are being replaced."""
    unavailable_requests: int = 0
    """The first this many requests of any kind answer 503, as a deploy still starting up."""
    plain_http_redirect_to: str | None = "https://127.0.0.1:{https_port}"
    """Location origin for plain-HTTP requests (ports are filled in); None serves the page over HTTP."""
    login_page: str = LOGIN_PAGE
    login_redirect_to: str | None = None
    """Where /login/index.php without a query string redirects ("{origin}" is filled in)."""
    security_headers: dict[str, str] = field(default_factory=lambda: dict(CDN_SECURITY_HEADERS))
    asset_cache_control: str | None = "public, max-age=604800, immutable"
    waf_blocks_sql_injection: bool = True
    delay_seconds: float = 0.0
    maintenance: bool = False
    """Every Moodle page answers Moodle's maintenance page, as while an upgrade runs or after one failed."""


@dataclass
class SiteState:
    """What the servers count while they answer, shared by their request threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    health_requests: int = 0
    asset_requests: dict[str, int] = field(default_factory=dict)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    https_port: int
    http_port: int
    """The ports of both listeners of the site, set before serving starts."""

    def __init__(self, behaviour: SiteBehaviour, state: SiteState, tls: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.state = state
        self.tls = tls

    def finish_request(self, request: Any, client_address: Any) -> None:
        """TLS handshake in the request's own thread, so one stuck client cannot block the others."""
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        with self.tls.wrap_socket(cast(socket, request), server_side=True) as tls_socket:
            super().finish_request(tls_socket, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that reject the certificate or time out are expected here."""


class _Handler(BaseHTTPRequestHandler):
    server: _QuietServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep pytest's output clean."""

    def do_GET(self) -> None:
        behaviour, state = self.server.behaviour, self.server.state
        time.sleep(behaviour.delay_seconds)
        with state.lock:
            state.requests += 1
            starting_up = state.requests <= behaviour.unavailable_requests
        if starting_up:
            self.answer(503, "starting up")
        elif self.server.tls is None:
            self.answer_plain_http()
        else:
            self.answer_https()

    def answer(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
        payload = body.encode()
        self.send_response(status)
        extra = dict(headers or {})
        if self.server.tls is not None:
            extra = {**self.server.behaviour.security_headers, **extra}
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def answer_plain_http(self) -> None:
        target = self.server.behaviour.plain_http_redirect_to
        if target is None:
            self.answer(200, "<html>plain HTTP</html>")
            return
        ports = {"https_port": self.server.https_port, "http_port": self.server.http_port}
        self.answer(301, headers={"Location": target.format(**ports) + self.path})

    def answer_https(self) -> None:
        behaviour, state = self.server.behaviour, self.server.state
        parts = urlsplit(self.path)
        origin = f"https://127.0.0.1:{self.server.https_port}"
        if behaviour.waf_blocks_sql_injection and SQL_INJECTION.search(unquote(parts.query)):
            self.answer(403, "Request blocked")
        elif behaviour.maintenance and parts.path != behaviour.health_path:
            self.answer(503, MAINTENANCE_PAGE, {"Retry-After": "300", "Cache-Control": "no-store, no-cache"})
        elif parts.path == "/":
            self.answer(behaviour.root_status, "<html>Moodle front page</html>")
        elif parts.path == behaviour.health_path:
            with state.lock:
                state.health_requests += 1
                replacing_tasks = state.health_requests <= behaviour.health_failures
            self.answer(502 if replacing_tasks else behaviour.health_status, "ok")
        elif parts.path == "/login/index.php" and behaviour.login_redirect_to and not parts.query:
            self.answer(303, headers={"Location": behaviour.login_redirect_to.replace("{origin}", origin)})
        elif parts.path == "/login/index.php":
            self.answer(200, behaviour.login_page.replace("{origin}", origin), {"Content-Type": "text/html"})
        elif parts.path.startswith(("/theme/", "/lib/javascript.php/")):
            self.answer_asset()
        else:
            self.answer(404, "not found")

    def answer_asset(self) -> None:
        """Like CloudFront in front of Moodle: a miss first, then hits with a growing Age."""
        behaviour, state = self.server.behaviour, self.server.state
        with state.lock:
            seen_before = state.asset_requests.get(self.path, 0)
            state.asset_requests[self.path] = seen_before + 1
        headers = {"Content-Type": "text/css"}
        if behaviour.asset_cache_control is not None:
            headers["Cache-Control"] = behaviour.asset_cache_control
        if seen_before:
            headers.update({"X-Cache": "Hit from cloudfront", "Age": str(seen_before)})
        else:
            headers["X-Cache"] = "Miss from cloudfront"
        self.answer(200, "body{color:#333}", headers)


@dataclass
class FakeSite:
    https_server: _QuietServer
    http_server: _QuietServer

    @classmethod
    def start(cls, behaviour: SiteBehaviour, tls: ssl.SSLContext) -> FakeSite:
        state = SiteState()
        https_server = _QuietServer(behaviour, state, tls)
        http_server = _QuietServer(behaviour, state, None)
        for server in (https_server, http_server):
            server.https_port = https_server.server_port
            server.http_port = http_server.server_port
            polling = {"poll_interval": 0.005}  # a short poll makes shutdown() quick
            threading.Thread(target=server.serve_forever, kwargs=polling, daemon=True).start()
        return cls(https_server, http_server)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_server.https_port}"

    @property
    def http_port(self) -> int:
        return self.http_server.http_port

    def stop(self) -> None:
        for server in (self.https_server, self.http_server):
            server.shutdown()
            server.server_close()


@contextmanager
def running_site(behaviour: SiteBehaviour) -> Iterator[FakeSite]:
    site = FakeSite.start(behaviour, certificates().server_context())
    try:
        yield site
    finally:
        site.stop()


def fast_settings(site: FakeSite, **overrides: Any) -> SmokeSettings:
    """Settings for a local run: short timeouts and millisecond backoffs keep the tests fast."""
    defaults: dict[str, Any] = {
        "site": Site.from_url(site.url),
        "http_port": site.http_port,
        "ca_bundle": certificates().ca_certificate,
        "request_timeout": 2.0,
        "time_limit": 10.0,
        "warm_up_seconds": 2.0,
        "warm_up_backoff": Backoff(first_delay=0.01, max_delay=0.05),
        "check_retry": RetryPolicy(attempts=3, backoff=Backoff(first_delay=0.01, max_delay=0.02)),
    }
    return SmokeSettings(**{**defaults, **overrides})
