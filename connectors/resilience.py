"""Retries with backoff and a circuit breaker, with the clock, sleep and randomness injectable.

Retrying a source that is down only makes it slower to recover, so retries are few, spread out by
full jitter (AWS architecture blog, "Exponential Backoff And Jitter"), and stopped altogether by a
per-source circuit breaker after repeated failures.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to try an idempotent call and how long to wait between tries.

    ``attempts`` counts the first try. A ``Retry-After`` longer than ``max_retry_after`` is not
    waited for: a worker blocked for minutes is worse than a failure the caller retries later.
    """

    attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 10.0
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def backoff(self, retry_number: int) -> float:
        """Full-jitter delay before retry ``retry_number`` (0 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** retry_number))
        return self.rng.uniform(0, ceiling)

    def delay(self, retry_number: int, retry_after: float | None) -> float | None:
        """Seconds to wait before the retry, or None when it should not be attempted."""
        if retry_number + 1 >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return self.backoff(retry_number)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


class CircuitBreaker:
    """Stops calling a source after ``failure_threshold`` consecutive failures.

    States: closed (calls pass), open (calls refused until ``cool_down`` seconds have passed),
    half-open (one trial call passes; its success closes the circuit, its failure reopens it).
    One breaker belongs to one connector instance, shared by the threads that use it, hence
    the lock.
    """

    CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

    def __init__(self, failure_threshold: int = 5, cool_down: float = 30.0,
                 clock: Clock = time.monotonic):
        self.failure_threshold = max(1, failure_threshold)
        self.cool_down = cool_down
        self.clock = clock
        self._lock = threading.Lock()
        self._state = self.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> str:
        """The current state, moving from open to half-open once the cool-down is over."""
        with self._lock:
            self._cool_if_due()
            return self._state

    def _cool_if_due(self) -> None:
        if self._state == self.OPEN and self.clock() - self._opened_at >= self.cool_down:
            self._state = self.HALF_OPEN
            self._trial_in_flight = False

    def allow(self) -> bool:
        """Whether a call may go ahead now; in half-open, only the single trial call may."""
        with self._lock:
            self._cool_if_due()
            if self._state == self.CLOSED:
                return True
            if self._state == self.HALF_OPEN and not self._trial_in_flight:
                self._trial_in_flight = True
                return True
            return False

    def record_success(self) -> None:
        """A call succeeded: the source is healthy again."""
        with self._lock:
            self._state = self.CLOSED
            self._failures = 0
            self._trial_in_flight = False

    def record_failure(self) -> None:
        """A call failed; open the circuit at the threshold, or again after a failed trial."""
        with self._lock:
            self._failures += 1
            if self._state == self.HALF_OPEN or self._failures >= self.failure_threshold:
                self._state = self.OPEN
                self._opened_at = self.clock()
                self._trial_in_flight = False

    def seconds_until_retry(self) -> float:
        """How long until an open circuit lets a trial call through (0 when not open)."""
        with self._lock:
            self._cool_if_due()
            if self._state != self.OPEN:
                return 0.0
            return max(0.0, self.cool_down - (self.clock() - self._opened_at))
