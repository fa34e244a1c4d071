"""Endpoint health decisions: when the circuit opens, lets a probe through, closes; when to disable."""

import pytest

from services.publish.health import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    BreakerPolicy,
    Health,
    after_attempt,
    circuit,
    public_health,
    should_disable,
    should_trip,
)
from shared.times import iso

POLICY = BreakerPolicy(window=10, threshold=0.8, cooldown_s=60)
NOW = 1_700_000_000.0
OK, FAIL = True, False


def test_a_window_that_is_not_full_never_trips():
    assert not should_trip([FAIL] * 9, POLICY)


@pytest.mark.parametrize("failures, trips", [(10, True), (8, True), (7, False), (0, False)])
def test_trips_when_most_of_a_full_window_failed(failures, trips):
    outcomes = [FAIL] * failures + [OK] * (10 - failures)
    assert should_trip(outcomes, POLICY) is trips


def test_only_the_window_counts_not_older_outcomes():
    assert not should_trip([OK] * 10 + [FAIL] * 50, POLICY)
    assert should_trip([FAIL] * 10 + [OK] * 50, POLICY)


def test_a_failure_that_fills_a_failing_window_opens_the_circuit_for_the_cooldown():
    verdict = after_attempt(FAIL, [FAIL] * 10, Health(), POLICY, NOW)
    assert verdict.open_until == NOW + 60 and not verdict.close


def test_a_failure_in_a_healthy_window_changes_nothing():
    verdict = after_attempt(FAIL, [FAIL] + [OK] * 9, Health(), POLICY, NOW)
    assert verdict.open_until is None and not verdict.close


def test_circuit_states_follow_the_open_until_time():
    assert circuit(Health(), NOW) == CLOSED
    assert circuit(Health(open_until_ts=NOW + 1), NOW) == OPEN
    assert circuit(Health(open_until_ts=NOW), NOW) == HALF_OPEN
    assert circuit(Health(open_until_ts=NOW - 30), NOW) == HALF_OPEN


def test_a_successful_probe_closes_the_circuit():
    half_open = Health(open_until_ts=NOW - 1)
    assert after_attempt(OK, [OK] + [FAIL] * 9, half_open, POLICY, NOW).close


def test_a_failed_probe_opens_it_for_another_cooldown_whatever_the_window():
    half_open = Health(open_until_ts=NOW - 1)
    assert after_attempt(FAIL, [FAIL], half_open, POLICY, NOW).open_until == NOW + 60


def test_a_success_while_closed_has_nothing_to_close():
    assert not after_attempt(OK, [OK], Health(), POLICY, NOW).close


def test_disabled_only_after_failing_without_success_for_the_whole_period():
    five_days = 5 * 86400
    assert not should_disable(Health(), NOW, five_days)  # never failed
    assert not should_disable(Health(failing_since_ts=NOW - five_days + 1), NOW, five_days)
    assert should_disable(Health(failing_since_ts=NOW - five_days), NOW, five_days)
    assert should_disable(Health(last_success_ts=NOW - 6 * 86400, failing_since_ts=NOW - five_days), NOW, five_days)


def test_health_reads_what_redis_keeps():
    health = Health.from_hash({"last_success_ts": "10.5", "failing_since_ts": "", "open_until_ts": "99"})
    assert health == Health(last_success_ts=10.5, failing_since_ts=None, open_until_ts=99.0)


def test_public_health_shows_the_pause_only_while_open():
    shown = public_health(Health(last_success_ts=NOW - 5, open_until_ts=NOW + 30), NOW, iso)
    assert shown == {
        "circuit": OPEN,
        "paused_until": iso(NOW + 30),
        "last_success_at": iso(NOW - 5),
        "failing_since": None,
    }
    assert public_health(Health(open_until_ts=NOW - 1), NOW, iso)["paused_until"] is None
