"""The feed index (pure): which index sets a published article goes in, which ones a feed query reads, and the
feed's cursors, each bound to its query.

An article is filed under every facet a subscription filter matches on (services/publish/matching.py): its
subject codes (enrich emits a second-level code always with its top-level parent, so a top-level query finds
the children's articles), people and organisations by canonical name, places by name and by ISO country, its
source and its language, all case-folded. The store keeps one sorted set per (facet, value), scored by
publication time like the feed, and moves an article's entries in the same script that publishes a version
and the one that expires it (shared/store.py). A query intersects the sets of its filters newest first.
"""

from __future__ import annotations

import hashlib
import json

from services.publish.matching import article_facets, facet_pairs, wanted
from services.publish.repository import decode_cursor, encode_cursor

FEED_FILTERS = {
    "topic": "topics",
    "entity": "entities",
    "place": "places",
    "source": "sources",
    "language": "languages",
}


def article_index(article: dict) -> list[tuple[str, str]]:
    """(facet, value) of every index set a finished article goes in."""
    return facet_pairs(article_facets(article))


def query_facets(query: dict) -> list[tuple[str, str]]:
    """(facet, value) of every index set a feed query reads: one per filter given."""
    filters = {FEED_FILTERS[name]: [value] for name, value in query.items() if name in FEED_FILTERS and value}
    return facet_pairs({name: wanted(filters, name) for name in filters})


def since_of(query: dict) -> float | None:
    return query["since"].timestamp() if query.get("since") else None


def query_token(facets: list[tuple[str, str]], since: float | None) -> str:
    """A short digest of what a query asks, carried in its cursors."""
    return hashlib.sha256(json.dumps([facets, since]).encode()).hexdigest()[:12]


def encode_feed_cursor(last: tuple[str, float], token: str) -> str:
    article_id, published_ts = last
    return encode_cursor(published_ts, f"{token}|{article_id}")


def decode_feed_cursor(cursor: str, token: str) -> tuple[float, str]:
    """(publication time, id) to go on after; ValueError unless this API handed it out for this very query."""
    score, member = decode_cursor(cursor)
    cursor_token, _, article_id = member.partition("|")
    if cursor_token != token or not article_id:
        raise ValueError("a cursor of another query")
    return score, article_id
