"""What the smoke test needs to know about Moodle's login page HTML: its forms and its theme assets."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

LOGIN_PATH = "/login/index.php"

THEME_ASSET_MARKERS = (
    "/theme/styles.php/",
    "/lib/javascript.php/",
    "/theme/yui_combo.php?",
    "/theme/image.php/",
    "/theme/font.php/",
)
"""Moodle's versioned, long-cached asset URLs, most preferred first: the theme CSS is on every page."""

LOGIN_FIELDS = (("username", None), ("password", "password"), ("logintoken", "hidden"))
"""Inputs of Moodle's login form as (name, required type); any type will do for the user name."""


@dataclass
class HtmlForm:
    action: str
    inputs: dict[str, str] = field(default_factory=dict)
    """Input name to lower-cased type."""


@dataclass
class PageSummary:
    forms: list[HtmlForm] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    """Every href and src, as written in the page."""


class _SummaryParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.summary = PageSummary()
        self._open_form: HtmlForm | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.summary.links.extend(values[name] for name in ("href", "src") if values.get(name))
        if tag == "form":
            self._open_form = HtmlForm(values.get("action", ""))
            self.summary.forms.append(self._open_form)
        elif tag == "input" and self._open_form is not None and values.get("name"):
            self._open_form.inputs[values["name"]] = values.get("type", "text").lower()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open_form = None


def summarise(html: str) -> PageSummary:
    parser = _SummaryParser()
    parser.feed(html)
    parser.close()
    return parser.summary


def posts_to_login(form: HtmlForm, page_url: str) -> bool:
    return urlsplit(urljoin(page_url, form.action)).path.endswith(LOGIN_PATH)


def missing_login_fields(form: HtmlForm) -> list[str]:
    """What the form lacks to be Moodle's login form, each described for a failure message."""
    missing = []
    for name, required_type in LOGIN_FIELDS:
        actual_type = form.inputs.get(name)
        if actual_type is None:
            missing.append(f"input {name!r}")
        elif required_type is not None and actual_type != required_type:
            missing.append(f"input {name!r} of type {required_type} (is {actual_type})")
    return missing


def theme_asset_urls(summary: PageSummary, page_url: str) -> list[str]:
    """Absolute URLs of versioned theme assets on the page, most preferred kind first."""
    absolute = [urljoin(page_url, link) for link in summary.links]
    return [url for marker in THEME_ASSET_MARKERS for url in absolute if marker in url]
