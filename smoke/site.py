"""The site under test: its base URL and the URLs of its pages, on HTTPS and on plain HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidSiteUrlError(ValueError):
    """The URL given cannot name a site (wrong scheme, no host, query or fragment)."""


def _netloc(host: str, port: int, scheme: str) -> str:
    bracketed = f"[{host}]" if ":" in host else host
    return bracketed if DEFAULT_PORTS[scheme] == port else f"{bracketed}:{port}"


@dataclass(frozen=True)
class Origin:
    """Scheme, host and port: what "the same site" means for redirects and asset URLs."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        """The origin of an absolute http(s) URL, or None for anything else."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            return None
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            return None
        return cls(parts.scheme, parts.hostname.lower(), port)

    def __str__(self) -> str:
        return f"{self.scheme}://{_netloc(self.host, self.port, self.scheme)}"


@dataclass(frozen=True)
class Site:
    """Where Moodle's wwwroot is; Moodle may live under a path, e.g. https://host/moodle."""

    origin: Origin
    base_path: str

    @classmethod
    def from_url(cls, url: str) -> Site:
        parts = urlsplit(url)
        origin = Origin.of(url)
        if origin is None:
            raise InvalidSiteUrlError(f"expected an http:// or https:// URL with a host, got {url!r}")
        if parts.query or parts.fragment:
            raise InvalidSiteUrlError(f"expected a site URL without query or fragment, got {url!r}")
        return cls(origin, parts.path.rstrip("/"))

    def url(self, path: str) -> str:
        """The site URL of ``path`` (which starts with /), under the site's base path."""
        return f"{self.origin}{self.base_path}{path}"

    def plain_http_url(self, path: str, http_port: int) -> str:
        """The same page on plain HTTP, which the CDN must redirect to HTTPS."""
        plain = Origin("http", self.origin.host, http_port)
        return f"{plain}{self.base_path}{path}"

    def is_same_origin(self, url: str) -> bool:
        return Origin.of(url) == self.origin
