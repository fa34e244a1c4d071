"""Which subscriptions want an article (pure). Any value within a filter list, every list given.

Topics are IPTC Media Topic codes. A top-level code matches its children because an article's subjects
always carry the parent of every second-level code they hold: IPTC's tree makes a narrower subject imply
its broader ones, and enrich emits a second-level subject only together with its parent (see
services/enrich/topics.py). So matching needs no copy of the hierarchy: a subscription to
`medtop:11000000` (politics) sees an article tagged `medtop:20000574` (elections) through the
`medtop:11000000` it also carries, and a subscription to the child code sees only articles tagged with it.
"""

from __future__ import annotations

from collections.abc import Iterable

FILTER_NAMES = ("topics", "entities", "places", "sources", "languages")


def _fold(values: Iterable) -> set[str]:
    return {str(v).strip().casefold() for v in values if v}


def topic_code(value: str) -> str:
    """`medtop:11000000` and `11000000` are one code."""
    return value.strip().removeprefix("medtop:")


def article_facets(article: dict) -> dict[str, set[str]]:
    """What filters match on, from a finished article `{"data": <ninjs>, "enrichment": ...}` (or an event with
    those two keys): subject codes, people and organisations, places by name and by ISO country, the source
    (ninjs infosources), the language."""
    item, extra = article["data"], article.get("enrichment") or {}
    places = [p.get("name") for p in item.get("places") or []] + [p.get("country") for p in extra.get("places") or []]
    return {
        "topics": _fold(topic_code(s.get("literal", "")) for s in item.get("subjects") or []),
        "entities": _fold(e.get("name") for kind in ("people", "organisations") for e in item.get(kind) or []),
        "places": _fold(places),
        "sources": _fold(source.get("name") for source in item.get("infosources") or []),
        "languages": _fold([item.get("language")]),
    }


def facet_pairs(facets: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(facet, value) of every value, sorted: what the feed index files an article under, or what a query asks."""
    return sorted((name, value) for name, values in facets.items() for value in values)


def wanted(filters: dict, name: str) -> set[str]:
    values = filters.get(name) or []
    return _fold(topic_code(v) for v in values) if name == "topics" else _fold(values)


def facets_match(filters: dict, facets: dict[str, set[str]]) -> bool:
    for name in FILTER_NAMES:
        values = wanted(filters, name)
        if values and not values & facets[name]:
            return False
    return True


def matches(subscription: dict, article: dict, event_type: str, facets: dict[str, set[str]] | None = None) -> bool:
    if not subscription.get("enabled") or event_type not in subscription.get("event_types", ()):
        return False
    return facets_match(subscription.get("filters") or {}, facets or article_facets(article))


def matching(
    subscriptions: Iterable[dict], article: dict, event_type: str, facets: dict[str, set[str]] | None = None
) -> list[dict]:
    facets = facets or article_facets(article)
    return [sub for sub in subscriptions if matches(sub, article, event_type, facets)]
