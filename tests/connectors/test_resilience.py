"""Retry delays, Retry-After parsing and the circuit breaker, on an injected clock."""

import random
from datetime import UTC, datetime

from connectors.resilience import CircuitBreaker, RetryPolicy, parse_retry_after

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after("Wed, 25 Nov 2026 12:00:30 GMT", now=NOW) == 30.0
    assert parse_retry_after("Wed, 25 Nov 2026 11:00:00 GMT", now=NOW) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_is_full_jitter_under_an_exponential_ceiling():
    policy = RetryPolicy(attempts=10, base_delay=0.5, max_delay=4.0, rng=random.Random(7))

    for retry_number, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (6, 4.0)]:
        delays = [policy.backoff(retry_number) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not a fixed step


def test_no_retry_once_attempts_are_used_or_retry_after_is_too_long():
    policy = RetryPolicy(attempts=3, max_retry_after=60)

    assert policy.delay(0, 2.0) == 2.0
    assert policy.delay(1, None) is not None
    assert policy.delay(2, None) is None
    assert policy.delay(0, 3600.0) is None


def test_breaker_opens_at_the_threshold_and_lets_one_trial_through_after_cool_down():
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, cool_down=10, clock=lambda: now[0])

    breaker.record_failure()
    assert breaker.allow() and breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()
    assert breaker.seconds_until_retry() == 10

    now[0] = 10
    assert breaker.state == "half_open"
    assert breaker.allow() is True
    assert breaker.allow() is False  # only one trial at a time
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow()


def test_a_success_resets_the_consecutive_failure_count():
    breaker = CircuitBreaker(failure_threshold=2, clock=lambda: 0.0)

    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()

    assert breaker.state == "closed"
