"""Publish use cases: fan an article out, attempt deliveries, redeliver and replay, manage subscriptions."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx

from services.publish.delivery import Attempt, next_delay, post
from services.publish.health import (
    HALF_OPEN,
    OPEN,
    BreakerPolicy,
    Health,
    after_attempt,
    circuit,
    public_health,
    should_disable,
)
from services.publish.matching import article_facets, facets_match, matches, matching
from services.publish.repository import PublishRepository
from services.publish.signing import live_secrets, new_secret, rotated, webhook_headers
from services.publish.ssrf import check_webhook_url
from shared.config import Settings
from shared.logs import bind, current_request_id
from shared.metrics import ACCEPT_TO_DELIVERED, DELIVERIES, DELIVERY_ATTEMPT_DURATION, FANOUT_DURATION, PipelineMetrics
from shared.store import ENRICHED, ArticleStore, iso

log = logging.getLogger(__name__)

PENDING, RETRYING, SUCCEEDED, FAILED = "pending", "retrying", "succeeded", "failed"
FINAL = frozenset({SUCCEEDED, FAILED})
PUBLISHED_EVENT, UPDATED_EVENT = "article.published", "article.updated"
REPLAY_SCAN_FACTOR = 20  # a replay looks at most this many articles per article it may re-send


class NotFound(LookupError):
    pass


class Conflict(RuntimeError):
    """The request is valid but the resource's state does not allow it now (409)."""


@dataclass(frozen=True)
class Publisher:
    """Everything the use cases need, wired once per process by `bootstrap`."""

    settings: Settings
    store: ArticleStore
    repo: PublishRepository
    send_task: Callable[[str, list], None]
    http: httpx.Client
    queue_depth: Callable[[str], int]  # messages waiting in a Celery queue

    @property
    def lease_s(self) -> float:
        """How long a claimed delivery waits for its task before it is claimed again."""
        return max(60.0, 2 * self.settings.webhook_timeout_s)

    @property
    def lock_ttl_s(self) -> float:
        """How long a delivery's lock (and its concurrency slot) outlives a worker that died holding it.
        An attempt takes at most about the timeout per phase (connect, send, each read of the answer)."""
        return self.settings.webhook_timeout_s + 30

    @property
    def breaker(self) -> BreakerPolicy:
        s = self.settings
        return BreakerPolicy(s.webhook_breaker_window, s.webhook_breaker_threshold, s.webhook_breaker_cooldown_s)


def delivery_id(sub_id: str, article_id: str, version: int, event_type: str, replay_id: str = "") -> str:
    key = f"{sub_id}|{article_id}|{version}|{event_type}" + (f"|{replay_id}" if replay_id else "")
    return "msg_" + hashlib.sha256(key.encode()).hexdigest()[:26]


def new_delivery(
    sub_id: str, article_id: str, version: int, event_type: str, now: float | None = None, replay_id: str = ""
) -> dict:
    now = time.time() if now is None else now
    delivery = {
        "id": delivery_id(sub_id, article_id, version, event_type, replay_id),
        "subscription_id": sub_id,
        "article_id": article_id,
        "version": version,
        "event_type": event_type,
        "status": PENDING,
        "created_ts": now,
        "created_at": iso(now),
        "next_attempt_ts": now,
        "next_attempt_at": iso(now),
        "attempts": [],
    }
    if replay_id:
        delivery["replay_id"] = replay_id
    return delivery


# fan-out


def publish_article(p: Publisher, article_id: str, version: int) -> int:
    """Create one delivery per matching subscription, then mark the article published.
    Re-running it creates nothing twice (deterministic delivery ids). Returns deliveries created."""
    started = time.perf_counter()
    status = p.store.status(article_id)
    if not status or status["version"] != version or status["status"] != ENRICHED:
        log.info("skip publish of %s v%s: state %s", article_id, version, status and status["status"])
        return 0
    article = p.store.enriched(article_id)
    event_type = UPDATED_EVENT if p.store.published_earlier(article_id, version) else PUBLISHED_EVENT
    # the finished article as stored: {"data": <ninjs>, "enrichment": <extra>} (DESIGN.md §3 Webhook, §5)
    body = json.dumps({"type": event_type, "timestamp": iso(time.time()), **article})
    p.repo.save_payload(article_id, version, body)
    now = time.time()
    subs = matching(p.repo.subscriptions(), article, event_type)
    # kept with each delivery for its log lines and the accept-to-delivered latency, retries included
    trace = {"request_id": current_request_id(), "accepted_ts": _timestamp(status["version_received_at"])}
    deliveries = [{**new_delivery(s["id"], article_id, version, event_type, now), **trace} for s in subs]
    created = p.repo.create_deliveries([(d, now + p.lease_s) for d in deliveries])
    for delivery, new in zip(deliveries, created, strict=True):
        if new:
            p.send_task("publish.deliver", [delivery["id"]])
    p.store.mark_published(article_id, version)
    PipelineMetrics(p.store.redis).observe(FANOUT_DURATION, time.perf_counter() - started)
    log.info("published %s v%s as %s to %d subscription(s)", article_id, version, event_type, sum(created))
    return sum(created)


def _timestamp(iso_time: str) -> float:
    return datetime.fromisoformat(iso_time).timestamp()


# one attempt


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
        if delivery is None or delivery["status"] in FINAL:
            p.repo.forget_due(delivery_id)
        elif delivery["next_attempt_ts"] <= time.time() + 0.5:
            unlocked = _attempt(p, delivery)
    finally:
        if not unlocked:
            p.repo.unlock_delivery(delivery_id)


def _bind_log_context(delivery: dict) -> None:
    """Log lines of this attempt name its subscription and article, and the ingest request behind it when
    the task itself carries none (a retry handed on by the due-set poller)."""
    bind(subscription_id=delivery["subscription_id"], article_id=delivery["article_id"], version=delivery["version"])
    if current_request_id() is None:
        bind(request_id=delivery.get("request_id"))


def _attempt(p: Publisher, delivery: dict) -> bool:
    """Attempt it, or put it back to wait. True when the delivery's lock was released on the way."""
    s, was = p.settings, delivery["status"]
    ctx = p.repo.prepare_attempt(delivery, s.webhook_max_in_flight, p.lock_ttl_s)
    sub, sub_id, now = ctx.sub, delivery["subscription_id"], time.time()

    def give_back_slot() -> None:
        if ctx.slot:
            p.repo.release_slot(sub_id, delivery["id"])

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

    headers = webhook_headers(live_secrets(sub, now), delivery["id"], ctx.payload, now)
    attempt = post(p.http, sub["url"], ctx.payload, headers, s.webhook_timeout_s)
    delivery["attempts"].append(attempt.as_dict())
    manual = delivery.pop("redeliver", False)
    due_at = None
    if attempt.succeeded:
        delivery["status"] = SUCCEEDED
    elif attempt.status_code == 410 or manual:
        delivery["status"] = FAILED  # 410: the endpoint is gone; a redelivery is one attempt, not a schedule
    else:
        delay = next_delay(attempt, len(delivery["attempts"]), s.webhook_retry_schedule, s.webhook_min_backoff_s)
        if delay is None:
            delivery["status"] = FAILED
        else:
            due_at = attempt.ended + delay
            delivery["status"] = RETRYING
    delivery.update(next_attempt_ts=due_at, next_attempt_at=iso(due_at) if due_at else None)
    outcomes, health = p.repo.finish_attempt(delivery, was, due_at, attempt.succeeded, p.breaker.window)
    log.info("delivery %s attempt %d: %s", delivery["id"], len(delivery["attempts"]), attempt.error or "ok")
    _record_attempt(p, delivery, attempt, manual)
    _judge_endpoint(p, sub, attempt.succeeded, attempt.status_code, outcomes, health)
    return True


def _record_attempt(p: Publisher, delivery: dict, attempt: Attempt, manual: bool) -> None:
    with PipelineMetrics(p.store.redis).batch() as metrics:
        metrics.observe(DELIVERY_ATTEMPT_DURATION, attempt.duration_ms / 1000)
        metrics.count(DELIVERIES, outcome=delivery["status"])
        if attempt.succeeded and not manual and delivery.get("accepted_ts"):
            metrics.observe(ACCEPT_TO_DELIVERED, attempt.ended - delivery["accepted_ts"])


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


def _wait(p: Publisher, delivery: dict, until: float) -> None:
    """Put a delivery back in the due set without attempting it (its retries are not used up)."""
    delivery.update(next_attempt_ts=until, next_attempt_at=iso(until))
    p.repo.save_delivery(delivery, until, was=delivery["status"])


def _final_without_attempt(p: Publisher, delivery: dict, reason: str) -> None:
    delivery.pop("redeliver", None)
    delivery.update(status=FAILED, error=reason, next_attempt_ts=None, next_attempt_at=None)
    p.repo.save_delivery(delivery, None)
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


# redeliver and replay


def redeliver(p: Publisher, delivery_id: str) -> dict:
    """One more attempt now, with the same webhook-id. A final delivery gets exactly one attempt; one still
    retrying has its next attempt moved to now."""
    locked, delivery = p.repo.lock_and_read(delivery_id, 10)
    if not locked:
        if p.repo.delivery(delivery_id) is None:
            raise NotFound(f"No delivery with id {delivery_id!r}.")
        raise Conflict("An attempt of this delivery is in progress; try again in a few seconds.")
    try:
        if delivery is None:
            raise NotFound(f"No delivery with id {delivery_id!r}.")
        sub = p.repo.subscription(delivery["subscription_id"])
        if sub is None or not sub["enabled"]:
            raise Conflict('The subscription is disabled; re-enable it (PATCH {"enabled": true}) first.')
        now = time.time()
        if delivery["status"] in FINAL:
            delivery.update(status=PENDING, redeliver=True)
        delivery.update(next_attempt_ts=now, next_attempt_at=iso(now))
        p.repo.save_delivery(delivery, now + p.lease_s)
    finally:
        p.repo.unlock_delivery(delivery_id)
    p.send_task("publish.deliver", [delivery_id])
    return delivery


def _latest_payload(p: Publisher, article_id: str, version: int | None) -> tuple[int, str] | None:
    """The payload of the newest published version of an article (its current version once published)."""
    if version is None:
        enriched = p.store.enriched(article_id)
        version = enriched["data"]["version"] if enriched else None
    for v in range(int(version or 0), 0, -1):
        body = p.repo.payload(article_id, v)
        if body:
            return v, body
    return None


def replay(p: Publisher, sub_id: str, since: float, until: float | None = None) -> dict:
    """Re-send, as new deliveries, every article published in [since, until] that the subscription matches,
    oldest first, each in its newest published version. At most WEBHOOK_REPLAY_MAX: when more match,
    `capped` is true and `next_since` is where a further replay would carry on."""
    sub = p.repo.subscription(sub_id)
    if sub is None:
        raise NotFound(f"No subscription with id {sub_id!r}.")
    if not sub["enabled"]:
        raise Conflict('The subscription is disabled; re-enable it (PATCH {"enabled": true}) first.')
    cap = p.settings.webhook_replay_max
    now = time.time()
    until = now if until is None else min(until, now)
    replay_id = "rpl_" + secrets.token_hex(8)
    chosen: list[dict] = []
    next_since, offset, chunk = None, 0, 200
    while next_since is None:
        window = p.repo.feed_window(since, until, offset, chunk)
        if not window:
            break
        offset += len(window)
        ids = [article_id for article_id, _ in window]
        versions = p.repo.published_versions(ids)
        bodies = p.repo.payloads([(a, v) for a, v in zip(ids, versions, strict=True) if v])
        known = dict(zip([a for a, v in zip(ids, versions, strict=True) if v], bodies, strict=True))
        for (article_id, published_ts), version in zip(window, versions, strict=True):
            body = known.get(article_id)
            if body is None:
                found = _latest_payload(p, article_id, version)
                if found is None:
                    continue
                version, body = found
            event = json.loads(body)
            if not matches(sub, event, event["type"], article_facets(event)):
                continue
            if len(chosen) == cap:
                next_since = published_ts
                break
            chosen.append(new_delivery(sub_id, article_id, version, event["type"], now, replay_id))
        if offset >= cap * REPLAY_SCAN_FACTOR and next_since is None:
            rest = p.repo.feed_window(since, until, offset, 1)
            next_since = rest[0][1] if rest else None
            break
    # due now, oldest first: the scheduler hands them to the deliver queue in this order
    p.repo.create_deliveries([(d, now + i * 1e-6) for i, d in enumerate(chosen)])
    log.info("replay %s for %s: %d deliveries", replay_id, sub_id, len(chosen))
    return {
        "replay_id": replay_id,
        "count": len(chosen),
        "capped": next_since is not None,
        "next_since": iso(next_since) if next_since is not None else None,
    }


def deliveries_page(p: Publisher, sub_id: str, status: str | None, limit: int, cursor: str | None) -> dict:
    items, next_cursor = p.repo.delivery_page(sub_id, status, limit, cursor)
    return {"items": [delivery_view(d) for d in items], "next_cursor": next_cursor}


FEED_FILTERS = {
    "topic": "topics",
    "entity": "entities",
    "place": "places",
    "source": "sources",
    "language": "languages",
}
FEED_SCAN_LIMIT = 1000  # articles looked at per request; past it the page ends early with a cursor


def feed_page(p: Publisher, query: dict) -> dict:
    """Published articles, newest first, matching every filter given; cursor-paginated."""
    filters = {FEED_FILTERS[name]: [value] for name, value in query.items() if name in FEED_FILTERS}
    since = query["since"].timestamp() if query["since"] else None
    items: list[dict] = []
    cursor, scanned = query["cursor"], 0
    while len(items) < query["limit"] and scanned < FEED_SCAN_LIMIT:
        batch = p.store.published_before(cursor, since, 100)
        if not batch:
            return {"items": items, "next_cursor": None}
        for (_, published), article in zip(batch, p.store.enriched_many([a for a, _ in batch]), strict=True):
            scanned, cursor = scanned + 1, published
            if article and facets_match(filters, article_facets(article)):
                items.append(article)
                if len(items) == query["limit"]:
                    break
    more = bool(p.store.published_before(cursor, since, 1))
    return {"items": items, "next_cursor": cursor if more else None}


def delivery_view(delivery: dict) -> dict:
    view = {
        "id": delivery["id"],
        "subscription_id": delivery["subscription_id"],
        "article_id": delivery["article_id"],
        "version": delivery["version"],
        "event_type": delivery["event_type"],
        "status": delivery["status"],
        "created_at": delivery.get("created_at"),
        "next_attempt_at": None if delivery["status"] in FINAL else delivery.get("next_attempt_at"),
        "attempts": delivery["attempts"],
    }
    for optional in ("replay_id", "error"):
        if delivery.get(optional):
            view[optional] = delivery[optional]
    return view


# subscriptions


def create_subscription(p: Publisher, data: dict) -> dict:
    check_webhook_url(data["url"], p.settings.webhook_allow_private)
    now = time.time()
    sub = {
        "id": "sub_" + secrets.token_hex(12),
        **data,
        "enabled": True,
        "disabled_reason": None,
        "secret": new_secret(),
        "previous_secrets": [],
        "created_ts": now,
        "created_at": iso(now),
        "updated_at": iso(now),
    }
    p.repo.save_subscription(sub)
    return sub


def update_subscription(p: Publisher, sub_id: str, changes: dict) -> dict:
    if "url" in changes:
        check_webhook_url(changes["url"], p.settings.webhook_allow_private)
    fresh_start = False

    def change(sub: dict) -> dict:
        nonlocal fresh_start
        new = {**sub, **changes, "updated_at": iso(time.time())}
        if changes.get("enabled") is True and not sub["enabled"]:
            new["disabled_reason"] = None
            fresh_start = True
        elif changes.get("enabled") is False and sub["enabled"]:
            new["disabled_reason"] = "disabled through the API"
        fresh_start = fresh_start or ("url" in changes and changes["url"] != sub["url"])
        return new

    sub = p.repo.update_subscription(sub_id, change)
    if sub is None:
        raise NotFound(f"No subscription with id {sub_id!r}.")
    if fresh_start:  # a re-enabled subscription or a new URL starts with a clean record and a closed circuit
        p.repo.reset_health(sub_id)
    return sub


def rotate_secret(p: Publisher, sub_id: str) -> dict:
    secret, now = new_secret(), time.time()
    sub = p.repo.update_subscription(
        sub_id, lambda s: {**rotated(s, secret, now, p.settings.webhook_secret_grace_s), "updated_at": iso(now)}
    )
    if sub is None:
        raise NotFound(f"No subscription with id {sub_id!r}.")
    return sub


def disable(p: Publisher, sub_id: str, reason: str) -> None:
    now = time.time()

    def change(sub: dict) -> dict | None:
        if not sub["enabled"]:
            return None
        return {**sub, "enabled": False, "disabled_reason": reason, "disabled_at": iso(now), "updated_at": iso(now)}

    p.repo.update_subscription(sub_id, change)
    log.warning("subscription %s disabled: %s", sub_id, reason)


def public_view(sub: dict, health: Health | None = None) -> dict:
    """A subscription as the API shows it: never a secret."""
    now = time.time()
    view = {k: v for k, v in sub.items() if k not in ("secret", "previous_secrets", "created_ts")}
    live = [prev["expires_ts"] for prev in sub.get("previous_secrets", []) if prev["expires_ts"] > now]
    view["previous_secret_expires_at"] = iso(max(live)) if live else None
    view["health"] = public_health(health or Health(), now, iso)
    return view
