"""Which subscriptions want an article (pure). Any value within a filter list, all given lists."""

from __future__ import annotations


def _fold(values) -> set[str]:
    return {str(v).casefold() for v in values if v}


def article_facets(article: dict) -> dict[str, set[str]]:
    places = article.get("places", [])
    return {
        "topics": _fold(s["code"].removeprefix("medtop:") for s in article.get("subjects", [])),
        "entities": _fold(e["name"] for kind in ("people", "organisations") for e in article.get(kind, [])),
        "places": _fold([p["name"] for p in places] + [p.get("country") for p in places]),
        "sources": _fold([article.get("source")]),
        "languages": _fold([article.get("language")]),
    }


def matches(subscription: dict, article: dict, event_type: str) -> bool:
    if not subscription["enabled"] or event_type not in subscription["event_types"]:
        return False
    facets = article_facets(article)
    for name, wanted in subscription["filters"].items():
        if name == "topics":
            wanted = [code.removeprefix("medtop:") for code in wanted]
        if wanted and not (_fold(wanted) & facets[name]):
            return False
    return True
