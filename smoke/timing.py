"""Time bounds shared by every request and wait: the overall time limit and exponential backoff."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


class TimeLimitReachedError(Exception):
    """The overall time limit ran out; whatever was under way is reported as failed."""

    def __init__(self) -> None:
        super().__init__("time limit reached")


class Deadline:
    """The moment the whole run must stop, so a hung deploy cannot stall the pipeline."""

    def __init__(
        self,
        seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._ends_at = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._ends_at - self._clock())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def ensure_time_left(self) -> None:
        if self.expired:
            raise TimeLimitReachedError

    def cap(self, seconds: float) -> float:
        """Shorten a timeout so that it ends no later than the deadline."""
        self.ensure_time_left()
        return min(seconds, self.remaining())

    def sleep(self, seconds: float) -> None:
        """Wait, but never past the deadline: raise instead of sleeping into it."""
        self._sleep(self.cap(seconds))
        self.ensure_time_left()


@dataclass(frozen=True)
class Backoff:
    """Exponential delays between attempts, capped so one wait never eats the whole budget."""

    first_delay: float
    max_delay: float

    def delay(self, retry_number: int) -> float:
        """The wait before retry ``retry_number`` (1 for the first retry)."""
        return min(self.max_delay, self.first_delay * 2.0 ** (retry_number - 1))


@dataclass(frozen=True)
class RetryPolicy:
    """How often a single request is tried when the network or the server (5xx) has a hiccup."""

    attempts: int
    backoff: Backoff

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"a request needs at least one attempt, got {self.attempts}")
