"""Fan-out: one delivery per subscription that wants an article version, each with a stable webhook-id."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter

from services.publish.matching import article_facets, facet_pairs, matching
from services.publish.model import Delivery
from services.publish.publisher import Publisher
from shared.contracts import EventType
from shared.metrics import FANOUT_DURATION, PipelineMetrics
from shared.times import iso

log = logging.getLogger(__name__)

FAN_OUT_TURN_S = 1.0  # an engine busy sending leaves fan-out to one that fanned out this recently


def delivery_id(sub_id: str, article_id: str, version: int, event_type: str, replay_id: str = "") -> str:
    key = f"{sub_id}|{article_id}|{version}|{event_type}" + (f"|{replay_id}" if replay_id else "")
    return "msg_" + hashlib.sha256(key.encode()).hexdigest()[:26]


def new_delivery(
    sub_id: str, article_id: str, version: int, event_type: str, now: float | None = None, replay_id: str = "", **extra
) -> Delivery:
    now = time.time() if now is None else now
    created_at = iso(now)
    return Delivery(
        id=delivery_id(sub_id, article_id, version, event_type, replay_id),
        subscription_id=sub_id,
        article_id=article_id,
        version=version,
        event_type=event_type,
        created_ts=now,
        created_at=created_at,
        next_attempt_ts=now,
        next_attempt_at=created_at,
        replay_id=replay_id or None,
        **extra,
    )


def webhook_body(event_type: str, article: dict, stored: str | None = None) -> str:
    """The webhook body (DESIGN §3 Webhook) for a stored finished article `{"data": <ninjs>, "enrichment": ...}`.
    Given `stored`, the JSON the store encoded `article` to, its bytes are spliced in after the body's first two
    keys rather than the article encoded again (the same text; fan-out's largest cost per article after Redis)."""
    if stored is not None and list(article) == ["data", "enrichment"]:
        head = json.dumps({"type": event_type, "timestamp": iso(time.time())})
        return f"{head[:-1]}, {stored[1:]}"
    return json.dumps(
        {
            "type": event_type,
            "timestamp": iso(time.time()),
            "data": article["data"],
            "enrichment": article["enrichment"],
        }
    )


def publish_articles(p: Publisher, refs: list[tuple[str, int, str | None]]) -> int:
    """Fan out enriched article versions, given as (id, version, ingest request id): for each, one delivery
    per matching subscription, due now; then mark them published. A few round trips for the whole batch.
    A version no longer waiting (published already, or superseded) is skipped, and re-running it creates
    nothing twice (deterministic delivery ids). Returns deliveries created."""
    started, now = time.perf_counter(), time.time()
    found = [f for f in p.store.enriched_versions(list(dict.fromkeys((a, v) for a, v, _ in refs))) if f]
    if not found:
        return 0
    request_ids = {(a, v): r for a, v, r in refs}
    subscriptions = p.repo.subscriptions()
    payloads, deliveries, published = [], [], []
    for article in found:
        event_type = EventType.UPDATED if article.update else EventType.PUBLISHED
        payloads.append((article.article_id, article.version, webhook_body(event_type, article.article, article.text)))
        # kept with each delivery for its log lines and the accept-to-delivered latency, retries included
        trace = {"request_id": request_ids[(article.article_id, article.version)] or None}
        trace["accepted_ts"] = article.received_ts
        facets = article_facets(article.article)
        for sub in matching(subscriptions, article.article, event_type, facets):
            deliveries.append(new_delivery(sub["id"], article.article_id, article.version, event_type, now, **trace))
        published.append((article.article_id, article.version, facet_pairs(facets)))
    p.repo.save_payloads(payloads)
    created = sum(p.repo.create_deliveries(_due_or_in_line(p, deliveries, now), p.lease_s))
    # the payloads are saved first: marking a version published drops the store's enriched copy of it
    p.store.mark_published_many(published)
    if created:
        p.repo.wake()
    PipelineMetrics(p.store.redis).observe(FANOUT_DURATION, time.perf_counter() - started)
    log.info("published %d article version(s): %d deliveries", len(found), created)
    return created


def _due_or_in_line(p: Publisher, deliveries: list[Delivery], now: float) -> list[tuple[Delivery, float | None]]:
    """A subscription's first few deliveries of the batch due now, enough to fill its slots and the engine's
    line behind them; the rest straight into its waiting line (None), where its attempts ending call them up,
    rather than each claimed once only to find no slot and be put there."""
    first = p.burst
    seen: Counter[str] = Counter()
    due = []
    for d in deliveries:
        seen[d.subscription_id] += 1
        due.append((d, now if seen[d.subscription_id] <= first else None))
    return due


def publish_article(p: Publisher, article_id: str, version: int, request_id: str | None) -> int:
    """One article version (the publish.article task, which a release before the publish outbox sent)."""
    return publish_articles(p, [(article_id, version, request_id)])


def drain_outbox(p: Publisher, batch: int, engine_id: str = "", busy: bool = False) -> int | None:
    """Fan out up to `batch` article versions enrich handed over through the publish outbox; how many. An engine
    `busy` sending leaves them to another engine that fanned out within FAN_OUT_TURN_S (None: it did): fan-out
    and sending then run on two processors, not on one engine's loop and its thread, which share one GIL."""
    if not p.repo.take_fan_out_turn(engine_id, FAN_OUT_TURN_S, yielding=busy):
        return None
    refs = p.store.take_publish_outbox(batch)
    if refs:
        publish_articles(p, refs)
    return len(refs)
