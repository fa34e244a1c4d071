"""Endpoint health of a subscription (pure): the circuit breaker and the no-success auto-disable.

The breaker (Convoy's idea) weighs the last `window` attempts of a subscription. When the window is full
and at least `threshold` of it failed, the circuit opens: the subscription's deliveries wait, without
using up their retries, for `cooldown_s`. Then one probe attempt goes out (half-open); its success
closes the circuit, its failure opens it for another cooldown. So a dead endpoint costs one attempt per
cooldown instead of a share of the delivery engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


@dataclass(frozen=True)
class BreakerPolicy:
    window: int
    threshold: float
    cooldown_s: float


@dataclass(frozen=True)
class Health:
    """What Redis keeps per subscription (times are Unix seconds)."""

    last_success_ts: float | None = None
    failing_since_ts: float | None = None  # first failure after the last success
    open_until_ts: float | None = None  # set while the circuit is open or half-open

    @classmethod
    def from_hash(cls, data: dict) -> Health:
        get = lambda name: float(data[name]) if data.get(name) else None  # noqa: E731
        return cls(get("last_success_ts"), get("failing_since_ts"), get("open_until_ts"))


def circuit(health: Health, now: float) -> str:
    if health.open_until_ts is None:
        return CLOSED
    return OPEN if now < health.open_until_ts else HALF_OPEN


def should_trip(outcomes: Sequence[bool], policy: BreakerPolicy) -> bool:
    """`outcomes`: the most recent attempts, newest first, True for success."""
    recent = list(outcomes)[: policy.window]
    if len(recent) < policy.window:
        return False
    return recent.count(False) >= policy.threshold * len(recent)


@dataclass(frozen=True)
class Verdict:
    """What follows from one attempt's outcome: open the circuit until `open_until`, close it, or nothing."""

    open_until: float | None = None
    close: bool = False


def after_attempt(
    succeeded: bool, outcomes: Sequence[bool], health: Health, policy: BreakerPolicy, now: float
) -> Verdict:
    """`outcomes` and `health` as they are after this attempt was recorded."""
    if succeeded:
        return Verdict(close=health.open_until_ts is not None)
    if health.open_until_ts is not None or should_trip(outcomes, policy):
        return Verdict(open_until=now + policy.cooldown_s)  # a failed probe re-opens it
    return Verdict()


def should_disable(health: Health, now: float, disable_after_s: float) -> bool:
    """Failing with no success for `disable_after_s` (counted from the first failure after the last success)."""
    return health.failing_since_ts is not None and now - health.failing_since_ts >= disable_after_s


def public_health(health: Health, now: float, iso) -> dict:
    state = circuit(health, now)
    return {
        "circuit": state,
        "paused_until": iso(health.open_until_ts) if state == OPEN else None,
        "last_success_at": iso(health.last_success_ts) if health.last_success_ts else None,
        "failing_since": iso(health.failing_since_ts) if health.failing_since_ts else None,
    }
