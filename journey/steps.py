"""The journey's steps, each with a default time budget; every step waits for the elements it needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait


class StepFailedError(Exception):
    """A step saw something wrong: a missing element, a failed call, an unexpected answer."""


@dataclass(frozen=True, kw_only=True)
class JourneyTarget:
    """The site and the monitoring account the journey uses."""

    url: str
    """Moodle's wwwroot, without a trailing slash."""
    username: str
    password: str
    course: str
    """Short name of the monitoring course."""


@dataclass(frozen=True)
class StepContext:
    driver: WebDriver
    target: JourneyTarget
    wait_seconds: float

    def page(self, path: str) -> None:
        self.driver.get(self.target.url + path)

    def element(self, css: str) -> Any:
        """The first element matching ``css`` once it is there; a step fails without it."""
        try:
            return WebDriverWait(self.driver, self.wait_seconds).until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
            )
        except Exception as error:  # Selenium's TimeoutException and friends
            raise StepFailedError(
                f"no element {css!r} on {self.driver.current_url} after {self.wait_seconds:g}s"
            ) from error

    def script(self, source: str) -> Any:
        """Runs ``source`` in the page; it calls ``done(value)`` when its promise settles."""
        self.driver.set_script_timeout(self.wait_seconds)
        wrapped = "const done = arguments[arguments.length - 1];\n" + source
        return self.driver.execute_async_script(wrapped)


def login_page(ctx: StepContext) -> str:
    ctx.page("/login/index.php")
    for css in ("form#login", "input#username", "input#password", "#loginbtn"):
        ctx.element(css)
    return "login form shown"


LOGIN_ERRORS = "#loginerrormessage, .loginerrors, .alert-danger"
"""Where Moodle's login page says why a login failed."""


def log_in(ctx: StepContext) -> str:
    ctx.element("input#username").send_keys(ctx.target.username)
    ctx.element("input#password").send_keys(ctx.target.password)
    ctx.element("#loginbtn").click()
    try:
        ctx.element("#user-menu-toggle")
    except StepFailedError as missing:
        said = [element.text for element in ctx.driver.find_elements(By.CSS_SELECTOR, LOGIN_ERRORS)]
        raise StepFailedError(f"{missing}; the page says: {' '.join(said) or 'nothing'}") from missing
    if "/login/" in ctx.driver.current_url:
        raise StepFailedError(f"still on {ctx.driver.current_url} after logging in")
    return f"logged in as {ctx.target.username}"


def dashboard(ctx: StepContext) -> str:
    ctx.page("/my/")
    ctx.element("body#page-my-index")
    ctx.element("#user-menu-toggle")
    return "dashboard shown"


def course(ctx: StepContext) -> str:
    ctx.page("/course/view.php?" + urlencode({"name": ctx.target.course}))
    ctx.element('body[id^="page-course-view"]')
    return f"course {ctx.target.course} shown"


AJAX_CALL = """
require(['core/ajax'], function(ajax) {
    ajax.call([{methodname: 'core_session_time_remaining', args: {}}])[0].then(
        function(result) { done({ok: true, result: result}); },
        function(error) {
            done({ok: false, error: String((error && (error.message || error.errorcode)) || error)});
        }
    );
}, function(error) { done({ok: false, error: 'core/ajax did not load: ' + error}); });
"""
"""Moodle's AJAX web service (lib/ajax/service.php) through its own JavaScript client."""


def ajax_call(ctx: StepContext) -> str:
    answer = ctx.script(AJAX_CALL)
    if not isinstance(answer, dict) or not answer.get("ok"):
        raise StepFailedError(f"core_session_time_remaining failed: {answer}")
    result = answer.get("result") or {}
    if not isinstance(result.get("timeremaining"), int):
        raise StepFailedError(f"core_session_time_remaining answered {result}")
    return f"core_session_time_remaining: {result['timeremaining']} s left in the session"


API_ROUTE = """
require(['core/fetch'], function(Fetch) {
    Fetch.performGet('core_user', 'current/preferences').then(function(response) {
        return response.json().then(function(body) {
            done({ok: response.ok, status: response.status, body: body});
        });
    }).catch(function(error) { done({ok: false, error: String((error && error.message) || error)}); });
}, function(error) { done({ok: false, error: 'core/fetch did not load: ' + error}); });
"""
"""A route of Moodle's REST API (``/api/rest/v2/...``, served by its router) through core/fetch."""


def api_route(ctx: StepContext) -> str:
    answer = ctx.script(API_ROUTE)
    if not isinstance(answer, dict) or not answer.get("ok") or not isinstance(answer.get("body"), dict):
        raise StepFailedError(f"GET /api/rest/v2/user/current/preferences failed: {answer}")
    return f"/api/rest/v2/user/current/preferences: {len(answer['body'])} preferences"


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[StepContext], str]
    budget_seconds: float
    """Default budget: three times the slowest duration measured against the built image with real Moodle
    (cold included), in whole seconds, at least 3 (docs/JOURNEY.md, "Budgets, measured")."""


STEPS = (
    Step("login_page", login_page, 11.0),
    Step("log_in", log_in, 3.0),
    Step("dashboard", dashboard, 3.0),
    Step("course", course, 3.0),
    Step("ajax_call", ajax_call, 3.0),
    Step("api_route", api_route, 3.0),
)
STEP_NAMES = tuple(step.name for step in STEPS)
DEFAULT_BUDGETS = {step.name: step.budget_seconds for step in STEPS}
