"""Simulated students taking one quiz at once: the load generator of ``make bench-exam`` (docs/CAPACITY.md).

Runs in its own virtualenv (.venv-bench: Locust and matplotlib, requirements-bench.txt), driven by
tools/bench_exam.py. Each student logs in, opens the course and the quiz, and waits. When all have arrived
(or the arrival deadline passes) they all press "Attempt quiz" at the same moment, then answer every page
(two questions each) after a think time and submit. Think time follows a schedule of steps (``--steps``:
seconds per page, each for some seconds of the run), so one run measures the same students at several
request rates: N students thinking T s load the site like N x 60 / T students thinking the anchor's 30-90 s.

Writes ``requests.csv`` (one line per request: start second since the synchronized start, name,
milliseconds, error) and ``students.json`` (per student: attempt id, pages answered, finished) to ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import gevent
from gevent.event import Event
from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser

from tools.exam.attempt_form import ResponseForm

SESSKEY = re.compile(r'"sesskey":"(\w+)"')
LOGIN_TOKEN = re.compile(r'name="logintoken" value="(\w+)"')
BODY_ID = re.compile(r'<body[^>]* id="([\w-]+)"')
COURSE_PAGES = ("page-course-view-topics", "page-course-view-weeks", "page-course-view-section")
HOME_PAGES = ("page-my-index", "page-my-courses", "page-site-index")
"""Where Moodle sends a student after logging in, depending on the site's default home page."""
FINISHED_PAGES = ("page-mod-quiz-review", "page-mod-quiz-view")
"""The review, or the quiz's page when its review options show nothing right after the attempt."""
QUIZ_PAGES = ("page-mod-quiz-attempt", "page-mod-quiz-summary")


class Exam:
    """What all students share: the exam's ids, the synchronized start and the think-time schedule."""

    def __init__(self, arguments: argparse.Namespace) -> None:
        self.exam = json.loads(Path(arguments.exam).read_text())
        self.password: str = arguments.password
        self.students: int = arguments.students
        self.first: int = arguments.first
        self.arrived = 0
        self.start = Event()
        self.started_at = 0.0
        self.steps: list[tuple[float, float]] = [
            (float(think), float(seconds))
            for think, seconds in (s.split(":") for s in arguments.steps.split(","))
        ]
        self.results: list[dict[str, object]] = []
        self.next_student = 0
        self.pressed = 0
        """Students whose "Attempt quiz" has been answered (or failed)."""
        self.schedule_origin = 0.0
        """When the last of them was answered: the think-time schedule starts then."""

    def think_time(self) -> float:
        """Seconds until the next page: uniform over [T/2, 3T/2] for the step in force now (the first one
        until every student has started); 1-3 s after the last step, to finish the attempts quickly (those
        pages are not measured)."""
        elapsed = time.monotonic() - self.schedule_origin if self.schedule_origin else 0.0
        for think, seconds in self.steps:
            if elapsed < seconds:
                return random.uniform(think / 2, think * 1.5)
            elapsed -= seconds
        return random.uniform(1.0, 3.0)


EXAM: Exam


class Student(FastHttpUser):
    network_timeout = 120.0
    connection_timeout = 30.0
    insecure = True

    @task
    def take_the_exam(self) -> None:
        number = EXAM.first + EXAM.next_student
        EXAM.next_student += 1
        result: dict[str, object] = {
            "student": number,
            "attempt": None,
            "pages": 0,
            "answers": 0,
            "finished": False,
        }
        EXAM.results.append(result)
        try:
            self.exam(number, result)
        finally:
            raise StopUser()

    def page(
        self,
        method: str,
        path: str,
        name: str,
        expected: tuple[str, ...],
        data: Mapping[str, object] | None = None,
    ) -> str | None:
        """The page's HTML when Moodle answered with one of the ``expected`` pages (by the body's id, after
        redirects); otherwise the request counts as an error (an error page, a login page) and None."""
        with self.client.request(method, path, name=name, data=data, catch_response=True) as response:
            text = response.text or ""
            body = BODY_ID.search(text)
            if response.status_code == 200 and body and body[1] in expected:
                return text
            response.failure(f"{response.status_code} {body[1] if body else 'no page'}")
            return None

    def exam(self, number: int, result: dict[str, object]) -> None:
        login = self.page("GET", "/login/index.php", "login page", ("page-login-index",))
        token = LOGIN_TOKEN.search(login or "")
        username = EXAM.exam["username_format"] % number
        form = {"username": username, "password": EXAM.password, "logintoken": token[1] if token else ""}
        if self.page("POST", "/login/index.php", "login", HOME_PAGES, form) is None:
            return
        if self.page("GET", f"/course/view.php?id={EXAM.exam['course']}", "course", COURSE_PAGES) is None:
            return
        quiz = self.page(
            "GET", f"/mod/quiz/view.php?id={EXAM.exam['cmid']}", "quiz view", ("page-mod-quiz-view",)
        )
        sesskey = SESSKEY.search(quiz or "")
        if not sesskey:
            return
        EXAM.arrived += 1
        EXAM.start.wait()
        # A few hundred clicks within the same second, not in lockstep to the microsecond.
        gevent.sleep(random.uniform(0, 1.0))
        cmid = EXAM.exam["cmid"]
        start = {"cmid": cmid, "sesskey": sesskey[1]}
        html = self.page(
            "POST", "/mod/quiz/startattempt.php", "start attempt", ("page-mod-quiz-attempt",), start
        )
        EXAM.pressed += 1
        if EXAM.pressed == EXAM.arrived:
            EXAM.schedule_origin = time.monotonic()
        rng = random.Random(number)
        for _ in range(EXAM.exam["pages"]):
            if html is None:
                return
            form_fields = ResponseForm(rng)
            form_fields.feed(html)
            fields = form_fields.filled()
            result["attempt"] = int(fields.get("attempt", 0)) or None
            gevent.sleep(EXAM.think_time())
            html = self.page(
                "POST", f"/mod/quiz/processattempt.php?cmid={cmid}", "quiz page", QUIZ_PAGES, fields
            )
            if html is not None:
                result["pages"] = int(str(result["pages"])) + 1
                result["answers"] = int(str(result["answers"])) + form_fields.answers
        if html is None or result["attempt"] is None:
            return
        # The summary page's "Submit all and finish".
        finish = {"attempt": result["attempt"], "finishattempt": 1, "timeup": 0, "slots": "", "cmid": cmid,
                  "sesskey": sesskey[1]}  # fmt: skip
        result["finished"] = (
            self.page("POST", "/mod/quiz/processattempt.php", "submit", ("page-mod-quiz-review",), finish)
            is not None
        )


def main() -> int:
    global EXAM
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--exam", required=True, help="the JSON make_exam.php printed")
    parser.add_argument("--password", required=True)
    parser.add_argument("--students", type=int, required=True)
    parser.add_argument("--first", type=int, default=1, help="number of the first student account")
    parser.add_argument("--arrival-seconds", type=float, default=60.0, help="logins are spread over this")
    parser.add_argument("--steps", required=True, help="think:seconds,... e.g. 60:30,30:30,15:30")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds after the start to give up")
    parser.add_argument("--out", required=True)
    arguments = parser.parse_args()
    EXAM = Exam(arguments)
    out = Path(arguments.out)
    out.mkdir(parents=True, exist_ok=True)

    rows: list[tuple[float, str, float, str]] = []

    @events.request.add_listener
    def record(
        name: str, response_time: float, exception: BaseException | None, start_time: float, **_: object
    ) -> None:
        # The failure as the page check or the client stated it ("303 page-login-index", a timeout), not
        # only its class: a run's errors must say what the student saw.
        error = "" if exception is None else str(exception)[:120] or type(exception).__name__
        rows.append((start_time, name, response_time, error))

    environment = Environment(user_classes=[Student], host=arguments.host, events=events)
    runner = environment.create_local_runner()
    spawn_rate = max(1.0, arguments.students / arguments.arrival_seconds)
    runner.start(arguments.students, spawn_rate=spawn_rate)
    arrival_deadline = time.monotonic() + arguments.arrival_seconds * 3
    while EXAM.arrived < arguments.students and time.monotonic() < arrival_deadline:
        gevent.sleep(0.2)
    gevent.sleep(1.0)
    EXAM.started_at = time.monotonic()
    start_epoch = time.time()
    EXAM.start.set()
    deadline = EXAM.started_at + arguments.deadline
    while runner.user_count > 0 and time.monotonic() < deadline:
        gevent.sleep(0.5)
    timed_out = runner.user_count > 0
    runner.quit()

    with (out / "requests.csv").open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["second", "name", "ms", "error"])
        for started, name, milliseconds, error in sorted(rows):
            writer.writerow([f"{started - start_epoch:.3f}", name, f"{milliseconds:.1f}", error])
    (out / "students.json").write_text(
        json.dumps(
            {
                "arrived": EXAM.arrived,
                "start_epoch": start_epoch,
                "schedule_origin": EXAM.schedule_origin - EXAM.started_at if EXAM.schedule_origin else None,
                "students": EXAM.results,
                "timed_out": timed_out,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
