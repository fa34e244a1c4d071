"""Read queries of the API and the console: the feed, an article, the delivery log, a delivery."""

from __future__ import annotations

import json

from services.publish import feed
from services.publish.model import Delivery
from services.publish.publisher import NotFound, Publisher
from shared.contracts import DeliveryStatus

FEED_WALK_BUDGET = 5000  # index entries one Redis script call looks at, so no call blocks Redis for long


def feed_page(p: Publisher, query: dict) -> dict:
    """Published articles, newest first, matching every filter given, `limit` of them whenever that many match
    (from the feed index, services/publish/feed.py); cursor-paginated. ValueError for a cursor this query
    did not hand out."""
    facets, since, limit = feed.query_facets(query), feed.since_of(query), query["limit"]
    token = feed.query_token(facets, since)
    after = feed.decode_feed_cursor(query["cursor"], token) if query["cursor"] else None
    matches: list[tuple[str, float]] = []
    while len(matches) <= limit:
        found, after = p.store.feed_walk(facets, after, since, limit + 1 - len(matches), FEED_WALK_BUDGET)
        matches += found
        if after is None:
            break
    page = matches[:limit]
    items = [doc for doc in finished_articles(p, [article_id for article_id, _ in page]) if doc]
    more = len(matches) > limit
    return {"items": items, "next_cursor": feed.encode_feed_cursor(page[-1], token) if more else None}


def article(p: Publisher, article_id: str) -> dict:
    """The finished article; NotFound until it is enriched."""
    [found] = finished_articles(p, [article_id])
    if found is None:
        raise NotFound(f"No enriched article with id {article_id!r} (yet).")
    return found


def finished_articles(p: Publisher, article_ids: list[str]) -> list[dict | None]:
    """Each article as handed out, `{"data", "enrichment"}`: its enriched copy while a version waits to be
    published, else what the webhook payload of its published version carries (the store keeps a published
    article's text there only)."""
    docs = p.store.enriched_many(article_ids)
    waiting = [article_id for article_id, doc in zip(article_ids, docs, strict=True) if doc is None]
    refs = [(a, v) for a, v in zip(waiting, p.repo.published_versions(waiting), strict=True) if v]
    bodies = {article_id: body for (article_id, _), body in zip(refs, p.repo.payloads(refs), strict=True) if body}
    return [doc or _carried(bodies.get(a)) for a, doc in zip(article_ids, docs, strict=True)]


def _carried(body: str | None) -> dict | None:
    if body is None:
        return None
    event = json.loads(body)
    return {"data": event["data"], "enrichment": event["enrichment"]}


def recent_articles(p: Publisher, count: int) -> list[tuple[str, float, dict]]:
    """(id, publication time, article) of the newest published articles, newest first."""
    newest = p.store.published_before(None, None, count)
    articles = finished_articles(p, [article_id for article_id, _ in newest])
    return [(a, ts, doc) for (a, ts), doc in zip(newest, articles, strict=True) if doc]


def state_counts(p: Publisher) -> dict[str, int]:
    """Articles per processing state."""
    return p.store.state_counts()


def deliveries_page(p: Publisher, sub_id: str, status: str | None, limit: int, cursor: str | None) -> dict:
    items, next_cursor = p.repo.delivery_page(sub_id, status, limit, cursor)
    return {"items": [delivery_view(d) for d in items], "next_cursor": next_cursor}


def failing_deliveries(p: Publisher, sub_id: str, limit: int) -> list[Delivery]:
    """The newest `limit` retrying and the newest `limit` failed deliveries of a subscription."""
    return [
        d
        for status in (DeliveryStatus.RETRYING, DeliveryStatus.FAILED)
        for d in p.repo.delivery_page(sub_id, status, limit, None)[0]
    ]


def delivery(p: Publisher, delivery_id: str) -> Delivery:
    found = p.repo.delivery(delivery_id)
    if found is None:
        raise NotFound(f"No delivery with id {delivery_id!r}.")
    return found


def delivery_view(delivery: Delivery) -> dict:
    view = {
        "id": delivery.id,
        "subscription_id": delivery.subscription_id,
        "article_id": delivery.article_id,
        "version": delivery.version,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "created_at": delivery.created_at,
        "next_attempt_at": None if delivery.final else delivery.next_attempt_at,
        "attempts": list(delivery.attempts),
    }
    for optional in ("replay_id", "error"):
        if getattr(delivery, optional):
            view[optional] = getattr(delivery, optional)
    return view
