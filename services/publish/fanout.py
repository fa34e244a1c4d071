"""Fan-out: one delivery per subscription that wants an article version, each with a stable webhook-id."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import datetime

from services.publish.feed import article_index
from services.publish.matching import matching
from services.publish.model import Delivery
from services.publish.publisher import Publisher
from shared.logs import current_request_id
from shared.metrics import FANOUT_DURATION, PipelineMetrics
from shared.store import ENRICHED, iso

log = logging.getLogger(__name__)

PUBLISHED_EVENT, UPDATED_EVENT = "article.published", "article.updated"


def delivery_id(sub_id: str, article_id: str, version: int, event_type: str, replay_id: str = "") -> str:
    key = f"{sub_id}|{article_id}|{version}|{event_type}" + (f"|{replay_id}" if replay_id else "")
    return "msg_" + hashlib.sha256(key.encode()).hexdigest()[:26]


def new_delivery(
    sub_id: str, article_id: str, version: int, event_type: str, now: float | None = None, replay_id: str = "", **extra
) -> Delivery:
    now = time.time() if now is None else now
    return Delivery(
        id=delivery_id(sub_id, article_id, version, event_type, replay_id),
        subscription_id=sub_id,
        article_id=article_id,
        version=version,
        event_type=event_type,
        created_ts=now,
        created_at=iso(now),
        replay_id=replay_id or None,
        **extra,
    ).due_at(now)


def webhook_body(event_type: str, article: dict) -> str:
    """The webhook body (DESIGN §3 Webhook) for a stored finished article `{"data": <ninjs>, "enrichment": ...}`."""
    return json.dumps(
        {
            "type": event_type,
            "timestamp": iso(time.time()),
            "data": article["data"],
            "enrichment": article["enrichment"],
        }
    )


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
    p.repo.save_payload(article_id, version, webhook_body(event_type, article))
    now = time.time()
    subs = matching(p.repo.subscriptions(), article, event_type)
    # kept with each delivery for its log lines and the accept-to-delivered latency, retries included
    trace = {"request_id": current_request_id(), "accepted_ts": _timestamp(status["version_received_at"])}
    deliveries = [new_delivery(s["id"], article_id, version, event_type, now, **trace) for s in subs]
    created = p.repo.create_deliveries([(d, now + p.lease_s) for d in deliveries])
    new = [delivery for delivery, fresh in zip(deliveries, created, strict=True) if fresh]
    for delivery in new:
        p.send_task("publish.deliver", [delivery.id])
    p.store.mark_published(article_id, version, article_index(article))
    PipelineMetrics(p.store.redis).observe(FANOUT_DURATION, time.perf_counter() - started)
    log.info("published %s v%s as %s to %d subscription(s)", article_id, version, event_type, len(new))
    return len(new)


def _timestamp(iso_time: str) -> float:
    return datetime.fromisoformat(iso_time).timestamp()
