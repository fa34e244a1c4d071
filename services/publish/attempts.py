"""One delivery attempt: send it, record it, schedule the retry, judge the endpoint (breaker, disable)."""

from __future__ import annotations

import logging
import random
import time

from services.publish.delivery import Attempt, next_delay, post
from services.publish.health import HALF_OPEN, OPEN, Health, after_attempt, circuit, should_disable
from services.publish.model import FAILED, RETRYING, SUCCEEDED, Delivery
from services.publish.publisher import Publisher
from services.publish.signing import live_secrets, webhook_headers
from services.publish.subscriptions import disable
from shared.logs import bind, current_request_id
from shared.metrics import ACCEPT_TO_DELIVERED, DELIVERIES, DELIVERY_ATTEMPT_DURATION, PipelineMetrics
from shared.store import iso

log = logging.getLogger(__name__)


def deliver(p: Publisher, delivery_id: str) -> None:
    """Attempt a due delivery once. A delivery already final, not yet due, or being attempted by another
    worker is left alone, so duplicate task messages send nothing twice."""
    locked, delivery = p.repo.lock_and_read(delivery_id, p.lock_ttl_s)
    if not locked:
        return  # another worker has it; if that one dies, the due set brings it back
    if delivery is not None:
        _bind_log_context(delivery)
    unlocked = False
    try:
        if delivery is None or delivery.final:
            p.repo.forget_due(delivery_id)
        elif delivery.next_attempt_ts <= time.time() + 0.5:
            unlocked = _attempt(p, delivery)
    finally:
        if not unlocked:
            p.repo.unlock_delivery(delivery_id)


def _bind_log_context(delivery: Delivery) -> None:
    """Log lines of this attempt name its subscription and article, and the ingest request behind it when
    the task itself carries none (a retry handed on by the due-set poller)."""
    bind(subscription_id=delivery.subscription_id, article_id=delivery.article_id, version=delivery.version)
    if current_request_id() is None:
        bind(request_id=delivery.request_id)


def _attempt(p: Publisher, delivery: Delivery) -> bool:
    """Attempt it, or put it back to wait. True when the delivery's lock was released on the way."""
    s = p.settings
    ctx = p.repo.prepare_attempt(delivery, s.webhook_max_in_flight, p.lock_ttl_s)
    sub, sub_id, now = ctx.sub, delivery.subscription_id, time.time()

    def give_back_slot() -> None:
        if ctx.slot:
            p.repo.release_slot(sub_id, delivery.id)

    if sub is None or not sub["enabled"] or ctx.payload is None:
        give_back_slot()
        why = "subscription deleted" if sub is None else "subscription disabled" if not sub["enabled"] else None
        _final_without_attempt(p, delivery, why or "payload missing")
        return False
    state = circuit(ctx.health, now)
    if state == OPEN:
        give_back_slot()
        _wait(p, delivery, ctx.health.open_until_ts + random.uniform(0, s.webhook_poll_interval_s))
        return False
    if not ctx.slot:  # the subscription has its fill of attempts in flight: come back shortly
        _wait(p, delivery, now + random.uniform(1, 2) * s.webhook_poll_interval_s)
        return False
    if state == HALF_OPEN and not p.repo.take_probe(sub_id, p.lock_ttl_s):
        give_back_slot()  # another attempt is the probe: wait for its verdict
        _wait(p, delivery, now + random.uniform(0.5, 1) * min(s.webhook_timeout_s, s.webhook_breaker_cooldown_s))
        return False

    headers = webhook_headers(live_secrets(sub, now), delivery.id, ctx.payload, now)
    attempt = post(p.http, sub["url"], ctx.payload, headers, s.webhook_timeout_s)
    after = after_attempt_of(p, delivery, attempt)
    window = p.breaker.window
    outcomes, health = p.repo.finish_attempt(after, delivery.status, after.next_attempt_ts, attempt.succeeded, window)
    log.info("delivery %s attempt %d: %s", delivery.id, len(after.attempts), attempt.error or "ok")
    _record_attempt(p, after, attempt, manual=delivery.redeliver)
    _judge_endpoint(p, sub, attempt.succeeded, attempt.status_code, outcomes, health)
    return True


def after_attempt_of(p: Publisher, delivery: Delivery, attempt: Attempt) -> Delivery:
    """The delivery with `attempt` logged: succeeded, failed for good, or retrying at its next time."""
    s = p.settings
    attempts = (*delivery.attempts, attempt.as_dict())
    due_at, status = None, FAILED  # 410: the endpoint is gone; a redelivery is one attempt, not a schedule
    if attempt.succeeded:
        status = SUCCEEDED
    elif attempt.status_code != 410 and not delivery.redeliver:
        delay = next_delay(attempt, len(attempts), s.webhook_retry_schedule, s.webhook_min_backoff_s)
        if delay is not None:
            due_at, status = attempt.ended + delay, RETRYING
    return delivery.due_at(due_at, status=status, attempts=attempts, redeliver=False)


def _record_attempt(p: Publisher, delivery: Delivery, attempt: Attempt, manual: bool) -> None:
    with PipelineMetrics(p.store.redis).batch() as metrics:
        metrics.observe(DELIVERY_ATTEMPT_DURATION, attempt.duration_ms / 1000)
        metrics.count(DELIVERIES, outcome=delivery.status)
        if attempt.succeeded and not manual and delivery.accepted_ts:
            metrics.observe(ACCEPT_TO_DELIVERED, attempt.ended - delivery.accepted_ts)


def _judge_endpoint(p: Publisher, sub: dict, succeeded: bool, status: int | None, outcomes, health: Health) -> None:
    now = time.time()
    verdict = after_attempt(succeeded, outcomes, health, p.breaker, now)
    if verdict.close:
        p.repo.close_circuit(sub["id"])
        log.info("subscription %s: circuit closed", sub["id"])
    elif verdict.open_until is not None:
        p.repo.open_circuit(sub["id"], verdict.open_until)
        log.warning("subscription %s: circuit open until %s", sub["id"], iso(verdict.open_until))
    if status == 410:
        disable(p, sub["id"], "endpoint answered 410 Gone")
    elif not succeeded and should_disable(health, now, p.settings.webhook_disable_after_s):
        since, failing = iso(health.failing_since_ts), _duration(now - health.failing_since_ts)
        disable(p, sub["id"], f"no successful delivery since {since}: failing for {failing}")


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


def _wait(p: Publisher, delivery: Delivery, until: float) -> None:
    """Put a delivery back in the due set without attempting it (its retries are not used up)."""
    p.repo.save_delivery(delivery.due_at(until), until, was=delivery.status)


def _final_without_attempt(p: Publisher, delivery: Delivery, reason: str) -> None:
    p.repo.save_delivery(delivery.due_at(None, status=FAILED, error=reason, redeliver=False), None)
    PipelineMetrics(p.store.redis).count(DELIVERIES, outcome=FAILED)


def enqueue_due(p: Publisher, batch: int = 200, max_batches: int = 10) -> int:
    """Hand due deliveries to the deliver queue, earliest first (the scheduler calls this every poll)."""
    total = 0
    for _ in range(max_batches):
        ids = p.repo.claim_due(p.lease_s, batch)
        for due_id in ids:
            p.send_task("publish.deliver", [due_id])
        total += len(ids)
        if len(ids) < batch:
            break
    return total
