"""Turning what upstream sent into the article's plain text (pure)."""

from __future__ import annotations

import re

import trafilatura


class NothingToEnrich(ValueError):
    """No article text is left after cleaning: a permanent failure, never retried."""


_BLANK_RUNS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t\u00a0]+")


def html_to_text(html: str) -> str:
    return trafilatura.extract(html, include_comments=False, include_tables=False, favor_precision=True) or ""


def normalise_text(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n"))
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def article_text(raw: dict) -> str:
    text = normalise_text(html_to_text(raw["html"]) if raw.get("html") else raw.get("body", ""))
    if not text:
        raise NothingToEnrich("no article text left after cleaning")
    return text
