"""The journey's logic without a browser: budgets, what counts as a problem, the command line."""

from __future__ import annotations

import pytest

from journey import cli
from journey.browser import Problem, console_problems, network_problems
from journey.cli import InvalidBudgetsError, parse_budgets
from journey.steps import DEFAULT_BUDGETS, STEP_NAMES


def test_budgets_default_and_override_per_step() -> None:
    assert parse_budgets(None) == DEFAULT_BUDGETS
    assert parse_budgets('{"log_in": 2.5}') == DEFAULT_BUDGETS | {"log_in": 2.5}
    assert set(DEFAULT_BUDGETS) == set(STEP_NAMES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"logout": 3}', "unknown step 'logout' in budgets; steps: login_page, log_in, dashboard"),
        ('{"course": 0}', "budget of course must be a positive number of seconds, got 0"),
        ('{"course": true}', "budget of course must be a positive number of seconds, got True"),
        ("[3]", "budgets must be a JSON object, got '[3]'"),
        ("{log_in: 3}", "budgets must be a JSON object: Expecting property name"),
    ],
)
def test_bad_budgets_are_named(text: str, expected: str) -> None:
    with pytest.raises(InvalidBudgetsError, match=None) as raised:
        parse_budgets(text)
    assert str(raised.value).startswith(expected)


def _event(method: str, **params: object) -> dict[str, object]:
    return {"method": method, "params": params}


def test_answers_from_400_and_failed_requests_are_problems() -> None:
    events = [
        _event("Network.requestWillBeSent", requestId="1", request={"url": "https://site/lib/a.js"}),
        _event(
            "Network.responseReceived",
            requestId="1",
            response={"url": "https://site/lib/a.js", "status": 404},
        ),
        _event(
            "Network.responseReceived", requestId="2", response={"url": "https://site/my/", "status": 399}
        ),
        _event("Network.responseReceived", requestId="3", response={"url": "https://site/x", "status": 503}),
        _event("Network.requestWillBeSent", requestId="4", request={"url": "https://site/font.woff"}),
        _event("Network.loadingFailed", requestId="4", errorText="net::ERR_CONNECTION_RESET"),
        _event("Network.requestWillBeSent", requestId="5", request={"url": "https://site/beacon"}),
        _event("Network.loadingFailed", requestId="5", errorText="net::ERR_ABORTED", canceled=True),
        _event("Network.requestWillBeSent", requestId="6", request={"url": "data:image/png;base64,AA"}),
        _event("Network.loadingFailed", requestId="6", errorText="net::ERR_INVALID_URL"),
    ]

    assert network_problems(events) == [
        Problem("http", "404 https://site/lib/a.js"),
        Problem("http", "503 https://site/x"),
        Problem("network", "net::ERR_CONNECTION_RESET https://site/font.woff"),
    ]


def test_only_severe_console_messages_are_problems() -> None:
    entries = [
        {"level": "SEVERE", "message": "https://site/lib/a.js 0:12 Uncaught TypeError: x is undefined"},
        {"level": "WARNING", "message": "deprecated API"},
        {"level": "INFO", "message": "hello"},
    ]

    assert [str(p) for p in console_problems(entries)] == [
        "console: https://site/lib/a.js 0:12 Uncaught TypeError: x is undefined"
    ]


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        ([], {"JOURNEY_PASSWORD": "x"}, "a site URL (http:// or https://) is needed"),
        (["--url", "ftp://site"], {"JOURNEY_PASSWORD": "x"}, "a site URL (http:// or https://) is needed"),
        (["--url", "https://site"], {}, "the monitoring user's password is needed in JOURNEY_PASSWORD"),
        (["--url", "https://site", "--budgets", '{"x": 1}'], {"JOURNEY_PASSWORD": "x"}, "unknown step 'x'"),
    ],
)
def test_usage_errors_exit_2_before_starting_a_browser(
    argv: list[str], environ: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv, environ)

    assert exited.value.code == 2
    assert message in capsys.readouterr().err
