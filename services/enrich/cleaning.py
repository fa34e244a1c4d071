"""Turning what upstream sent into the article's plain text (pure): HTML through trafilatura, plain
text through `services.enrich.boilerplate`. The raw article stays in the store for re-processing.

A `body` laid out with HTML blocks (paragraphs, line breaks, headings, lists, ...) is read as HTML too: upstream
systems often send their article HTML as "the body", and stripping those tags as text would glue the blocks together
("Body storyNext paragraph"). Inline tags alone (a stray tracking `<img>`, `<b>`) leave a body plain text.
"""

from __future__ import annotations

import re

import trafilatura
from lxml.html.defs import block_tags, top_level_tags

from services.enrich.boilerplate import normalise_text, remove_boilerplate

# Elements that end a line of text: lxml's block and top-level ones, HTML5's sectioning ones and <br>.
BLOCK_TAGS = (
    block_tags
    | top_level_tags
    | {"br", "article", "section", "header", "footer", "nav", "aside", "main", "figure", "figcaption"}
)
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)(?:[\s/][^<>]*)?>")
_DOCUMENT = re.compile(r"<(?:html|body)[\s>]", re.IGNORECASE)


class NothingToEnrich(ValueError):
    """No article text is left after cleaning: a permanent failure, never retried."""


def has_markup(text: str) -> bool:
    """Whether `text` is laid out in HTML blocks: "<p>One</p><p>Two</p>" is, "a <b>bold</b> c", "x < y" and "<3" not."""
    return any(match.group(1).lower() in BLOCK_TAGS for match in _TAG.finditer(text))


def html_to_text(html: str) -> str:
    if not _DOCUMENT.search(html):  # trafilatura finds no article in a bare fragment ("<p>One</p><p>Two</p>")
        html = f"<html><body>{html}</body></html>"
    return trafilatura.extract(html, include_comments=False, include_tables=False, favor_precision=True) or ""


def article_text(raw: dict) -> str:
    body = raw.get("body", "")
    if raw.get("html") or has_markup(body):
        text = normalise_text(html_to_text(raw.get("html") or body))
    else:
        body = normalise_text(body)
        # The rules are heuristics: when they leave nothing, the text as sent beats a permanent failure.
        text = remove_boilerplate(body, raw.get("title", "")) or body
    if not text:
        raise NothingToEnrich("no article text left after cleaning")
    return text
