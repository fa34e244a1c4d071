"""Accepting articles: validate, derive the id, store durably (the store's outbox queues it)."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import ValidationError

from shared.identity import article_id, content_hash
from shared.schemas import ArticleIn
from shared.store import ArticleStore

_schema = ArticleIn()


@dataclass(frozen=True)
class Receipt:
    article_id: str
    version: int
    duplicate: bool


def accept_article(store: ArticleStore, payload: dict, source: str, request_id: str) -> Receipt:
    """Raises marshmallow.ValidationError on bad input. `request_id` goes along to enrich and the webhooks."""
    raw = _schema.load(payload)
    raw.setdefault("source", source)
    new_id = article_id(raw)
    accepted = store.accept(new_id, raw, content_hash(raw), request_id)
    return Receipt(new_id, accepted.version, accepted.duplicate)


def accept_batch(store: ArticleStore, payloads: list, source: str, request_id: str) -> list[Receipt | dict]:
    """One outcome per item, in order: a Receipt, or the item's validation errors. One bad item never
    rejects the others."""
    outcomes: list[Receipt | dict] = []
    for payload in payloads:
        try:
            outcomes.append(accept_article(store, payload, source, request_id))
        except ValidationError as exc:
            outcomes.append(exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages})
    return outcomes
