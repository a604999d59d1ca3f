"""Chromium for the journey and what it saw: HTTP answers from its performance log (the DevTools
Network events) and errors from its console."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
"""Debian's packages (chromium, chromium-driver): Selenium Manager never downloads a browser or driver."""

LOGGING_PREFS = {"performance": "ALL", "browser": "ALL"}
"""goog:loggingPrefs: the DevTools Network events and every console message."""

WINDOW_SIZE = "1366,900"


def chrome_options(*, binary: Path | None = None, headless: bool = True) -> webdriver.ChromeOptions:
    """Options for any Chromium the journey drives (local or the canary runtime's own)."""
    options = webdriver.ChromeOptions()
    if binary is not None:
        options.binary_location = str(binary)
    if headless:
        options.add_argument("--headless=new")
    for argument in (
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW_SIZE}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", LOGGING_PREFS)
    return options


def local_chromium(*, chromium: Path = CHROMIUM, chromedriver: Path = CHROMEDRIVER) -> WebDriver:
    """Headless Chromium driven by the given chromedriver."""
    for path in (chromium, chromedriver):
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found (Debian packages chromium and chromium-driver)")
    return webdriver.Chrome(
        service=Service(executable_path=str(chromedriver)), options=chrome_options(binary=chromium)
    )


@dataclass(frozen=True)
class Problem:
    kind: str
    """"http" (an answer >= 400), "network" (a request that failed) or "console" (a JavaScript error)."""
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


def network_problems(messages: Iterable[Mapping[str, Any]]) -> list[Problem]:
    """Every response >= 400 and every failed request among DevTools Network events."""
    urls: dict[str, str] = {}
    problems = []
    for message in messages:
        method, params = message.get("method"), message.get("params") or {}
        if method == "Network.requestWillBeSent":
            urls[params.get("requestId", "")] = params.get("request", {}).get("url", "")
        elif method == "Network.responseReceived":
            response = params.get("response") or {}
            status = int(response.get("status") or 0)
            if status >= 400:
                problems.append(Problem("http", f"{status} {response.get('url', '?')}"))
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            url = urls.get(params.get("requestId", ""), "?")
            if not url.startswith("data:"):
                problems.append(Problem("network", f"{params.get('errorText', 'failed')} {url}"))
    return problems


def console_problems(entries: Iterable[Mapping[str, Any]]) -> list[Problem]:
    """Console messages at level SEVERE: uncaught exceptions, console.error and failed loads."""
    return [
        Problem("console", str(entry.get("message", "")))
        for entry in entries
        if entry.get("level") == "SEVERE"
    ]


def drain_problems(driver: Any) -> list[Problem]:
    """What went wrong since the last call (reading the logs empties them). ``get_log`` is chromedriver's
    (Selenium's Chromium drivers have it, its generic remote WebDriver type does not)."""
    messages = [json.loads(entry["message"])["message"] for entry in driver.get_log("performance")]
    return network_problems(messages) + console_problems(driver.get_log("browser"))
