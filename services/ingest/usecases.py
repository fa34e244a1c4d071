"""Accepting an article: validate, derive its id, store it durably, then queue it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from services.ingest.identity import article_id, content_hash
from shared.schemas import ArticleIn
from shared.store import ArticleStore

log = logging.getLogger(__name__)

_schema = ArticleIn()


@dataclass(frozen=True)
class Receipt:
    article_id: str
    version: int
    duplicate: bool


def accept_article(store: ArticleStore, enqueue: Callable[[str, int], None], payload: dict, source: str) -> Receipt:
    """Raises marshmallow.ValidationError on bad input. The store write comes first: if the
    enqueue fails, the sweeper still finds the article past its deadline."""
    raw = _schema.load(payload)
    raw.setdefault("source", source)
    new_id = article_id(raw)
    accepted = store.accept(new_id, raw, content_hash(raw))
    if not accepted.duplicate:
        try:
            enqueue(new_id, accepted.version)
        except Exception:  # broker trouble must not turn a stored article into an error
            log.warning("enqueue failed for %s v%s; the sweeper will retry", new_id, accepted.version, exc_info=True)
    return Receipt(new_id, accepted.version, accepted.duplicate)
