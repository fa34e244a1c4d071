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
    places = article.get("places") or []
    return {
        "topics": _fold(topic_code(s.get("code", "")) for s in article.get("subjects") or []),
        "entities": _fold(e.get("name") for kind in ("people", "organisations") for e in article.get(kind) or []),
        "places": _fold([p.get("name") for p in places] + [p.get("country") for p in places]),
        "sources": _fold([article.get("source")]),
        "languages": _fold([article.get("language")]),
    }


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


def matching(subscriptions: Iterable[dict], article: dict, event_type: str) -> list[dict]:
    facets = article_facets(article)
    return [sub for sub in subscriptions if matches(sub, article, event_type, facets)]
