"""A quiz attempt page's form, filled in like a student would (standard library only, so it is unit-tested
without the bench's virtualenv)."""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser

SHORT_ANSWER = "Jupiter"


class ResponseForm(HTMLParser):
    """The fields of a quiz attempt page's form (id="responseform"), filled like a student would: one
    choice of every radio group and select, text in text inputs, hidden fields as they are."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng
        self.inside = False
        self.fields: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}
        self.select: str | None = None
        self.options: dict[str, list[str]] = {}
        self.answers = 0
        """Questions given an answer on this page (radio groups, selects and text inputs of a question)."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and attributes.get("id") == "responseform":
            self.inside = True
        if not self.inside:
            return
        name = attributes.get("name", "")
        kind = attributes.get("type", "text")
        if tag == "input" and name:
            if kind == "hidden":
                self.fields[name] = attributes.get("value", "")
            elif kind == "radio" and attributes.get("value") not in ("-1", ""):
                self.radios.setdefault(name, []).append(attributes.get("value", ""))
            elif kind == "text":
                self.fields[name] = SHORT_ANSWER
            elif kind == "submit" and name == "next":
                self.fields[name] = attributes.get("value", "")
        elif tag == "select" and name:
            self.select = name
            self.options[name] = []
        elif tag == "option" and self.select and attributes.get("value") not in ("0", "", None):
            self.options[self.select].append(attributes.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None

    def filled(self) -> dict[str, str]:
        choices = {name: self.rng.choice(values) for name, values in self.radios.items() if values}
        choices |= {name: self.rng.choice(values) for name, values in self.options.items() if values}
        answered = {re.sub(r"_(answer|sub\d+)$", "", name) for name in choices}
        answered |= {re.sub(r"_answer$", "", n) for n, v in self.fields.items() if v == SHORT_ANSWER}
        self.answers = len(answered)
        return self.fields | choices
