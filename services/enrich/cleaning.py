"""Turning what upstream sent into the article's plain text (pure): HTML through trafilatura, plain
text through `services.enrich.boilerplate`. The raw article stays in the store for re-processing."""

from __future__ import annotations

import trafilatura

from services.enrich.boilerplate import normalise_text, remove_boilerplate


class NothingToEnrich(ValueError):
    """No article text is left after cleaning: a permanent failure, never retried."""


def html_to_text(html: str) -> str:
    return trafilatura.extract(html, include_comments=False, include_tables=False, favor_precision=True) or ""


def article_text(raw: dict) -> str:
    if raw.get("html"):
        text = normalise_text(html_to_text(raw["html"]))
    else:
        body = normalise_text(raw.get("body", ""))
        # The rules are heuristics: when they leave nothing, the text as sent beats a permanent failure.
        text = remove_boilerplate(body, raw.get("title", "")) or body
    if not text:
        raise NothingToEnrich("no article text left after cleaning")
    return text
