"""Send again: one more attempt of a delivery (redeliver), or a window of published articles (replay)."""

from __future__ import annotations

import json
import logging
import secrets
import time

from services.publish.fanout import new_delivery
from services.publish.matching import article_facets, matches
from services.publish.model import Delivery
from services.publish.publisher import Conflict, NotFound, Publisher
from services.publish.subscriptions import subscription
from shared.contracts import DeliveryStatus
from shared.times import iso

log = logging.getLogger(__name__)

REPLAY_SCAN_FACTOR = 20  # a replay looks at most this many articles per article it may re-send
_DISABLED = 'The subscription is disabled; re-enable it (PATCH {"enabled": true}) first.'


def redeliver(p: Publisher, delivery_id: str) -> Delivery:
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
        sub = p.repo.subscription(delivery.subscription_id)
        if sub is None or not sub["enabled"]:
            raise Conflict(_DISABLED)
        now = time.time()
        again = {"status": DeliveryStatus.PENDING, "redeliver": True} if delivery.final else {}
        delivery = delivery.due_at(now, **again)
        p.repo.save_delivery(delivery, now)
    finally:
        p.repo.unlock_delivery(delivery_id)
    p.repo.wake()
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
    sub = subscription(p, sub_id)
    if not sub["enabled"]:
        raise Conflict(_DISABLED)
    cap = p.settings.webhook_replay_max
    now = time.time()
    until = now if until is None else min(until, now)
    replay_id = "rpl_" + secrets.token_hex(8)
    chosen: list[Delivery] = []
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
    # due now, oldest first: the delivery engine claims them in this order
    p.repo.create_deliveries([(d, now + i * 1e-6) for i, d in enumerate(chosen)])
    p.repo.wake()
    log.info("replay %s for %s: %d deliveries", replay_id, sub_id, len(chosen))
    return {
        "replay_id": replay_id,
        "count": len(chosen),
        "capped": next_since is not None,
        "next_since": iso(next_since) if next_since is not None else None,
    }
