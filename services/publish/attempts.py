"""Delivery attempts, a batch at a time: decide which claimed deliveries go out now, send one, and record
what came back (the delivery log, the retry schedule, the circuit breaker, disabling a dead endpoint)."""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from services.publish.batches import AttemptContext
from services.publish.consumers import consumer_enabled
from services.publish.delivery import Attempt, next_delay, post
from services.publish.health import HALF_OPEN, OPEN, Health, after_attempt, circuit, should_disable
from services.publish.model import Delivery
from services.publish.publisher import Publisher
from services.publish.signing import live_secrets, webhook_headers
from services.publish.subscriptions import disable
from shared.contracts import DeliveryStatus
from shared.logs import bind
from shared.metrics import ACCEPT_TO_DELIVERED, DELIVERIES, DELIVERY_ATTEMPT_DURATION, Batch, PipelineMetrics
from shared.times import iso

log = logging.getLogger(__name__)

DUE_SLACK_S = 0.5  # a delivery claimed this much before its time goes out now
# An engine counts as running this long after its last round: an idle one has a round every poll interval.
LIVE_SLACK_S = 2.0
FOR_SLOT = object()


@dataclass(frozen=True)
class Ready:
    """A claimed delivery cleared to go out: its lock and a concurrency slot are held."""

    delivery: Delivery
    sub: dict
    payload: str


def triage(p: Publisher, claimed: list[Delivery], in_flight: Mapping[str, int]) -> tuple[list[Ready], list[Ready]]:
    """Of deliveries an engine claimed, with `in_flight` attempts per subscription, those to attempt now, and those
    whose subscription has its fill of attempts in flight or the engine its share of them (still claimed: for
    the caller to hold or put in line). The others go back in one round trip: a final one (its subscription
    deleted or disabled, its consumer disabled, its payload gone) is logged as failed; one whose subscription's
    circuit is open waits without using up a retry."""
    now = time.time()
    done, due, back = [], [], []
    for d in claimed:
        if d.final:  # left in the due set by an engine that died after logging it
            done.append(d.id)
        elif d.next_attempt_ts <= now + DUE_SLACK_S:
            due.append(d)
        else:  # claimed before its time (the API moved it): back to its time
            back.append((d, d.next_attempt_ts, d.status, False))
    if done:
        p.repo.forget(done)
    ready, in_line, failed = [], [], 0
    max_in_flight = p.settings.webhook_max_in_flight
    contexts = p.repo.prepare_attempts(due, max_in_flight, p.lease_s, in_flight) if due else []
    consumer_ids = {ctx.sub["consumer_id"] for ctx in contexts if ctx.sub and ctx.sub.get("consumer_id")}
    consumers_enabled = {consumer_id: consumer_enabled(p, consumer_id) for consumer_id in consumer_ids}
    for delivery, ctx in zip(due, contexts, strict=True):
        wait = _hold_back(p, ctx, now, consumers_enabled)
        if wait is None:
            ready.append(Ready(delivery, ctx.sub, ctx.payload))
        elif wait is FOR_SLOT:
            in_line.append(Ready(delivery, ctx.sub, ctx.payload))
        elif isinstance(wait, str):
            failed += 1
            ended = delivery.due_at(None, status=DeliveryStatus.FAILED, error=wait, redeliver=False)
            back.append((ended, None, delivery.status, ctx.slot))
        else:
            back.append((delivery.due_at(wait), wait, delivery.status, ctx.slot))
    if back:
        p.repo.put_back(back, [], p.lease_s)
    if failed:
        PipelineMetrics(p.store.redis).count(DELIVERIES, failed, outcome=DeliveryStatus.FAILED)
    return ready, in_line


def _hold_back(
    p: Publisher, ctx: AttemptContext, now: float, consumers_enabled: dict[str, bool]
) -> float | str | object | None:
    """None: attempt it now. A time: wait until then. FOR_SLOT: wait in line for the subscription's next free
    slot. A reason: it ends failed without an attempt (a disabled consumer's deliveries too)."""
    s, sub = p.settings, ctx.sub
    if sub is None or not sub["enabled"] or ctx.payload is None:
        return (
            "subscription deleted"
            if sub is None
            else "subscription disabled"
            if not sub["enabled"]
            else "payload missing"
        )
    if sub.get("consumer_id") and not consumers_enabled[sub["consumer_id"]]:
        return "consumer disabled"
    state = circuit(ctx.health, now)
    if state == OPEN:
        return ctx.health.open_until_ts + random.uniform(0, s.webhook_poll_interval_s)
    if not ctx.slot:  # the subscription has its fill of attempts in flight, or this engine its share of them
        return FOR_SLOT
    if state == HALF_OPEN and not p.repo.take_probe(sub["id"], p.lease_s):
        # another attempt is the probe: wait for its verdict
        return now + random.uniform(0.5, 1) * min(s.webhook_timeout_s, s.webhook_breaker_cooldown_s)
    return None


async def send(p: Publisher, client: aiohttp.ClientSession, ready: Ready) -> Attempt:
    """One signed POST (Standard Webhooks headers: the same webhook-id on every attempt)."""
    now = time.time()
    headers = webhook_headers(live_secrets(ready.sub, now), ready.delivery.id, ready.payload, now)
    return await post(client, ready.sub["url"], ready.payload, headers, p.settings.webhook_timeout_s)


def after_attempt_of(p: Publisher, delivery: Delivery, attempt: Attempt) -> Delivery:
    """The delivery with `attempt` logged: succeeded, failed for good, or retrying at its next time."""
    s = p.settings
    attempts = (*delivery.attempts, attempt.as_dict())
    due_at, status = (
        None,
        DeliveryStatus.FAILED,
    )  # 410: the endpoint is gone; a redelivery is one attempt, not a schedule
    if attempt.succeeded:
        status = DeliveryStatus.SUCCEEDED
    elif attempt.status_code != 410 and not delivery.redeliver:
        delay = next_delay(attempt, len(attempts), s.webhook_retry_schedule, s.webhook_min_backoff_s)
        if delay is not None:
            due_at, status = attempt.ended + delay, DeliveryStatus.RETRYING
    return delivery.due_at(due_at, status=status, attempts=attempts, redeliver=False)


def record_and_claim(
    p: Publisher,
    engine: str,
    finished: list[tuple[Ready, Attempt, Ready | None]],
    room: int,
    call_up: list[int] | None = None,
) -> tuple[list[tuple[str, Delivery | None]], int | None]:
    """Log a batch of attempts `engine` made, each as (what was sent, the attempt, its successor: a claimed
    delivery of the same subscription that took over its slot, or None), and claim up to `room` deliveries, in
    one round trip: the engine noted as running; each delivery saved, its slot handed on and its lock freed,
    `call_up` (for each attempt; none by default) of its subscription's waiting deliveries called up (claimed,
    or due now when `room` is 0), the next one offered to another engine should a slot still be free, the
    outcome counted for its subscription's health; then what other engines offered this one and due
    deliveries claimed. Then judge each endpoint by its attempt. Returns the claimed (id, delivery or None when
    gone), and the engine's share of each subscription's slots (None when there was no attempt to record)."""
    afters = [after_attempt_of(p, ready.delivery, attempt) for ready, attempt, _ in finished]

    def metrics(pipe) -> None:  # a few commands for the whole batch
        batch = Batch(pipe)
        batch.observe_many(DELIVERY_ATTEMPT_DURATION, [attempt.duration_ms / 1000 for _, attempt, _ in finished])
        for status, count in Counter(after.status for after in afters).items():
            batch.count(DELIVERIES, count, outcome=status)
        firsts = [
            attempt.ended - after.accepted_ts
            for after, (ready, attempt, _) in zip(afters, finished, strict=True)
            if attempt.succeeded and not ready.delivery.redeliver and after.accepted_ts
        ]
        batch.observe_many(ACCEPT_TO_DELIVERED, firsts)

    call_up = call_up or [0] * len(finished)
    outcomes = [
        (after, ready.delivery.status, attempt.succeeded, successor and successor.delivery.id, calls)
        for after, (ready, attempt, successor), calls in zip(afters, finished, call_up, strict=True)
    ]
    s = p.settings
    live_s = s.webhook_poll_interval_s + LIVE_SLACK_S
    results, claimed, share = p.repo.finish_and_claim(
        engine, outcomes, p.breaker.window, p.lease_s, room, s.webhook_max_in_flight, live_s, metrics
    )
    for after, (ready, attempt, _), (recent, health) in zip(afters, finished, results, strict=True):
        _log_attempt(after, attempt)
        judge_endpoint(p, ready.sub, attempt, recent, health)
    return claimed, share


def _log_attempt(delivery: Delivery, attempt: Attempt) -> None:
    """Each line names the delivery's subscription and article, and the ingest request behind it."""
    bind(
        delivery_id=delivery.id,
        subscription_id=delivery.subscription_id,
        article_id=delivery.article_id,
        version=delivery.version,
        request_id=delivery.request_id,
    )
    log.info("delivery %s attempt %d: %s", delivery.id, len(delivery.attempts), attempt.error or "ok")


def judge_endpoint(p: Publisher, sub: dict, attempt: Attempt, outcomes: list[bool], health: Health) -> None:
    now = time.time()
    verdict = after_attempt(attempt.succeeded, outcomes, health, p.breaker, now)
    if verdict.close:
        p.repo.close_circuit(sub["id"])
        log.info("subscription %s: circuit closed", sub["id"])
    elif verdict.open_until is not None:
        p.repo.open_circuit(sub["id"], verdict.open_until)
        log.warning("subscription %s: circuit open until %s", sub["id"], iso(verdict.open_until))
    if attempt.status_code == 410:
        disable(p, sub["id"], "endpoint answered 410 Gone")
    elif not attempt.succeeded and should_disable(health, now, p.settings.webhook_disable_after_s):
        since, failing = iso(health.failing_since_ts), _duration(now - health.failing_since_ts)
        disable(p, sub["id"], f"no successful delivery since {since}: failing for {failing}")


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"
