import random
from email.utils import formatdate

import pytest

from services.publish.delivery import (
    BLOCKED,
    CONNECT_ERROR,
    HTTP_ERROR,
    TIMEOUT,
    Attempt,
    next_delay,
    parse_retry_after,
    retry_delay,
)

SCHEDULE = (5.0, 300.0, 1800.0)
NOW = 1_700_000_000.0


def failed(status=None, kind=HTTP_ERROR, retry_after=None) -> Attempt:
    return Attempt("t", status, 10, "x", "", kind=kind, retry_after=retry_after, ended=NOW)


class FixedJitter(random.Random):
    """uniform() returns one end of the jitter range: 0.8 or 1.2 times the scheduled delay."""

    def __init__(self, factor: float):
        super().__init__()
        self.factor = factor

    def uniform(self, a, b):
        return self.factor


def test_each_failed_attempt_waits_its_scheduled_delay_within_jitter():
    rng = random.Random(7)
    for attempts_made, scheduled in enumerate(SCHEDULE, start=1):
        delays = [retry_delay(attempts_made, SCHEDULE, rng) for _ in range(200)]
        assert all(0.8 * scheduled <= d <= 1.2 * scheduled for d in delays)
        assert max(delays) - min(delays) > 0.2 * scheduled  # jitter really spreads retries


def test_schedule_used_up_means_no_more_attempts():
    assert retry_delay(len(SCHEDULE) + 1, SCHEDULE) is None
    assert next_delay(failed(500), len(SCHEDULE) + 1, SCHEDULE, 60) is None


def test_default_schedule_is_the_documented_one():
    from shared.config import Settings

    assert Settings.from_env({}).webhook_retry_schedule == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert Settings.from_env({}).webhook_min_backoff_s == 60


@pytest.mark.parametrize("kind", [HTTP_ERROR, CONNECT_ERROR, BLOCKED])
def test_plain_failures_follow_the_schedule(kind):
    delay = next_delay(failed(500 if kind == HTTP_ERROR else None, kind), 1, SCHEDULE, 60, FixedJitter(1.0))
    assert delay == 5.0


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_slow_down_statuses_wait_at_least_the_minimum_backoff(status):
    assert next_delay(failed(status), 1, SCHEDULE, 60, FixedJitter(1.0)) == 60
    assert next_delay(failed(status), 2, SCHEDULE, 60, FixedJitter(1.0)) == 300  # longer schedule entries win


def test_timeouts_wait_at_least_the_minimum_backoff():
    assert next_delay(failed(None, TIMEOUT), 1, SCHEDULE, 60, FixedJitter(1.0)) == 60


def test_500_does_not_get_the_minimum_backoff():
    assert next_delay(failed(500), 1, SCHEDULE, 60, FixedJitter(1.0)) == 5.0


@pytest.mark.parametrize(
    "asked, jitter, expected",
    [
        ("0", 1.0, 300.0),  # cannot speed us up: at least the scheduled delay
        ("450", 1.0, 450.0),  # honoured within bounds
        ("3600", 1.0, 600.0),  # cannot park us for long: at most twice the scheduled delay
        ("3600", 0.8, 480.0),  # the bounds are the jittered delay's
        ("3600", 1.2, 720.0),
        ("soon", 1.0, 300.0),  # unreadable: ignored
    ],
)
def test_retry_after_is_clamped_to_scheduled_and_twice_scheduled(asked, jitter, expected):
    assert next_delay(failed(500, retry_after=asked), 2, SCHEDULE, 1, FixedJitter(jitter)) == pytest.approx(expected)


def test_retry_after_on_429_cannot_undercut_the_minimum_backoff():
    assert next_delay(failed(429, retry_after="1"), 1, SCHEDULE, 60, FixedJitter(1.0)) == 60
    assert next_delay(failed(429, retry_after="9"), 1, SCHEDULE, 60, FixedJitter(1.0)) == 60  # clamped to 10, then 60


def test_retry_after_as_an_http_date():
    assert parse_retry_after(formatdate(NOW + 120, usegmt=True), NOW) == pytest.approx(120)
    assert parse_retry_after(formatdate(NOW - 120, usegmt=True), NOW) == 0.0
    assert parse_retry_after("30", NOW) == 30.0
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after("-5", NOW) is None
    assert parse_retry_after("Thu, 99 Foo", NOW) is None
