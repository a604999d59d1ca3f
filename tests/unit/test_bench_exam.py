"""The exam bench's own arithmetic (tools/exam/): what it counts as capacity, as a lost answer's absence,
and how it fills a quiz page. The bench itself runs with `make bench-exam` (docs/CAPACITY.md)."""

import json
import math
import random
from pathlib import Path

import pytest

from tools.exam import analysis
from tools.exam.analysis import Request
from tools.exam.attempt_form import SHORT_ANSWER, ResponseForm

ATTEMPT_PAGE = """
<form action="processattempt.php" method="post" id="responseform"><div>
<input type="hidden" name="q12:3_:sequencecheck" value="1">
<input type="radio" name="q12:3_answer" value="-1" class="sr-only">
<input type="radio" name="q12:3_answer" value="0"><input type="radio" name="q12:3_answer" value="1">
<select name="q12:4_sub0"><option value="0">Choose...</option><option value="2">Paris</option></select>
<select name="q12:4_sub1"><option value="0">Choose...</option><option value="1">Tokyo</option></select>
<input type="hidden" name="attempt" value="77"><input type="hidden" name="slots" value="3,4">
<input type="submit" name="next" value="Next page">
</div></form>
<form id="other"><input type="text" name="search"></form>
"""


def test_a_page_is_answered_like_a_student_would() -> None:
    form = ResponseForm(random.Random(1))
    form.feed(ATTEMPT_PAGE)
    fields = form.filled()
    assert fields["q12:3_answer"] in ("0", "1"), "one real choice, never the hidden 'clear my choice'"
    assert (fields["q12:4_sub0"], fields["q12:4_sub1"]) == ("2", "1"), "a real option, never 'Choose...'"
    assert fields["attempt"] == "77" and fields["slots"] == "3,4" and fields["next"] == "Next page"
    assert "search" not in fields, "only the response form is submitted"
    assert form.answers == 2


def test_a_short_answer_counts_as_an_answer() -> None:
    form = ResponseForm(random.Random(1))
    form.feed('<form id="responseform"><input type="text" name="q5:1_answer"></form>')
    assert form.filled() == {"q5:1_answer": SHORT_ANSWER}
    assert form.answers == 1


def _pages(second: float, count: int, ms: float, error: str = "") -> list[Request]:
    return [Request(second + index / count, "quiz page", ms, error) for index in range(count)]


def test_a_step_holds_only_with_its_p95_under_the_limit_and_no_errors() -> None:
    """Steps of 20 s at 4, 2 and 1 s of think time: each is measured once the think times drawn before
    it have run out (1.5 x the previous step's think time)."""
    requests = _pages(6, 100, 200) + _pages(26, 94, 300) + _pages(26, 6, 2000) + _pages(43, 100, 100)
    requests += [Request(50.0, "submit", 100, "CatchResponseError"), Request(1.0, "quiz page", 9000, "")]
    steps = analysis.steps(requests, [(4, 20), (2, 20), (1, 20)], students=50, offset=0)
    assert [step.start for step in steps] == [6, 26, 43]
    assert [step.equivalent_students for step in steps] == [750, 1500, 3000]
    assert [step.pages for step in steps] == [100, 100, 101]
    assert [step.p95_ms for step in steps] == [200, 2000, 100]
    assert [step.holds for step in steps] == [True, False, False], "slow p95, then one error"
    assert analysis.capacity(steps) == 750


def test_a_step_shorter_than_its_think_time_measures_nothing() -> None:
    steps = analysis.steps(_pages(0, 100, 100), [(60, 20)], students=10, offset=0)
    assert steps[0].pages == 0 and not steps[0].holds
    assert analysis.capacity(steps) == 0


def test_a_step_with_too_few_pages_proves_nothing() -> None:
    steps = analysis.steps(_pages(2, 5, 100), [(1, 10)], students=10, offset=0)
    assert steps[0].pages == 5 and not steps[0].holds


def test_steps_start_where_the_synchronized_start_ended() -> None:
    requests = _pages(0, 30, 5000) + _pages(13.5, 30, 100)
    (step,) = analysis.steps(requests, [(1, 10)], students=10, offset=12)
    assert step.pages == 30 and step.p95_ms == 100


def test_the_synchronized_start_drains_when_the_last_attempt_shows_its_first_page() -> None:
    requests = [
        Request(0.1, "start attempt", 900, ""),
        Request(0.5, "start attempt", 20500, ""),
        Request(0.7, "start attempt", 3000, "CatchResponseError"),
        Request(-30, "login", 100, ""),
    ]
    start = analysis.sync_start(requests, students=3)
    assert (start.started, start.errors) == (2, 1)
    assert math.isclose(start.drain_seconds, 21.0)
    assert start.p95_ms == 20500
    assert analysis.drain_curve(requests) == [(1.0, 1), (21.0, 2)]


def test_cpu_per_request_type_comes_from_php_fpm_accounting() -> None:
    log = [
        "POST /mod/quiz/startattempt.php 303 400.0 50.00 8192",
        "POST /mod/quiz/startattempt.php 303 200.0 100.00 10240",
        "GET /mod/quiz/attempt.php 200 100.0 80.00 6144",
        "GET /my/ 200 50.0 100.00 4096",
        "not an access log line",
    ]
    costs = {cost.request_type: cost for cost in analysis.cpu_per_request_type(log)}
    assert set(costs) == {"start attempt", "attempt page", "dashboard"}
    assert costs["start attempt"].count == 2
    assert costs["start attempt"].cpu_ms_mean == 200.0
    assert costs["start attempt"].peak_memory_kb_max == 10240
    assert costs["attempt page"].cpu_ms_mean == 80.0


def test_a_run_is_reanalysed_for_the_schedule_actually_in_force(tmp_path: Path) -> None:
    """Students who thought 4 s throughout: one step, measured from 6 s after the start drained."""
    label = "a run"
    rows = ["second,name,ms,error", "0.1,start attempt,900,"] + [
        f"{7 + i / 10},quiz page,100," for i in range(30)
    ]
    (tmp_path / "requests-a-run-512.csv").write_text("\n".join(rows) + "\n")
    # The web task at 250 ms of CPU a second, the rest of the host at 1,550: 1.8 of its 2 cores.
    monitor = ["time,web_cpu_ms,db_cpu_ms,redis_cpu_ms,loadgen_cpu_ms"] + [
        f"{1000 + second},{second * 250},{second * 1000},{second * 50},{second * 500}"
        for second in range(0, 30)
    ]
    (tmp_path / "monitor-a-run-512.csv").write_text("\n".join(monitor) + "\n")
    run = {"size": {"cpu": 512, "vcpu": 0.5}, "arrived": 10, "start_epoch": 1000, "steps": []}
    (tmp_path / "results.json").write_text(json.dumps({label: {"runs": [run], "machine": {"cpus": 2}}}))
    analysis.reanalyse(tmp_path, label, [(4.0, 20.0)])
    (found,) = json.loads((tmp_path / "results.json").read_text())[label]["runs"]
    (step,) = found["steps"]
    assert (step["start"], step["pages"], step["holds"]) == (7.0, 30, True)
    assert step["web_cpu_percent"] == 50.0, "250 ms of CPU a second on half a vCPU"
    assert step["host_cpu_percent"] == 90.0
    assert found["host_limited"] is False, "the step held"
    # One student started within the first second, while the database used 1,000 ms of CPU.
    assert found["sync_start"]["db_cpu_ms_per_student"] == 1000.0
    assert found["capacity_equivalent_students"] == 150
    assert found["steps_reanalysed_for"] == "4:20"


@pytest.mark.parametrize(
    ("holds", "web", "host", "limited"),
    [
        (
            False,
            63.0,
            92.1,
            True,
        ),  # the 2 vCPU run on the 2-core machine: the host was full, the task was not
        (False, 98.9, 71.4, False),  # the task at its own limit: a real capacity figure
        (False, 63.0, 60.0, False),  # neither full: latency from elsewhere, not the host's cores
        (True, 35.3, 95.0, False),  # a step that held says nothing against the run
    ],
)
def test_a_run_is_host_limited_only_when_a_step_failed_on_a_full_host_below_the_tasks_limit(
    holds: bool, web: float, host: float, limited: bool
) -> None:
    step = {"holds": holds, "web_cpu_percent": web, "host_cpu_percent": host}
    assert analysis.host_limited([step]) is limited
