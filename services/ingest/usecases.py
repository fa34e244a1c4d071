"""Accepting articles: validate, derive the id, store durably, then queue."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from marshmallow import ValidationError

from services.ingest.identity import article_id, content_hash
from shared.schemas import ArticleIn
from shared.store import ArticleStore

log = logging.getLogger(__name__)

_schema = ArticleIn()
Enqueue = Callable[[list[tuple[str, int]]], None]


@dataclass(frozen=True)
class Receipt:
    article_id: str
    version: int
    duplicate: bool


def _store(store: ArticleStore, payload: dict, source: str) -> Receipt:
    raw = _schema.load(payload)  # raises ValidationError
    raw.setdefault("source", source)
    new_id = article_id(raw)
    accepted = store.accept(new_id, raw, content_hash(raw))
    return Receipt(new_id, accepted.version, accepted.duplicate)


def _enqueue(enqueue: Enqueue, receipts: list[Receipt]) -> None:
    """After the store write: if the broker fails, the sweeper finds the articles past their deadline."""
    jobs = [(r.article_id, r.version) for r in receipts if not r.duplicate]
    if not jobs:
        return
    try:
        enqueue(jobs)
    except Exception:  # broker trouble must not turn stored articles into an error
        log.warning("enqueue of %d article(s) failed; the sweeper will retry", len(jobs), exc_info=True)


def accept_article(store: ArticleStore, enqueue: Enqueue, payload: dict, source: str) -> Receipt:
    """Raises marshmallow.ValidationError on bad input."""
    receipt = _store(store, payload, source)
    _enqueue(enqueue, [receipt])
    return receipt


def accept_batch(store: ArticleStore, enqueue: Enqueue, payloads: list, source: str) -> list[Receipt | dict]:
    """One outcome per item, in order: a Receipt, or the item's validation errors. One bad item never
    rejects the others."""
    outcomes: list[Receipt | dict] = []
    for payload in payloads:
        try:
            outcomes.append(_store(store, payload, source))
        except ValidationError as exc:
            outcomes.append(exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages})
    _enqueue(enqueue, [o for o in outcomes if isinstance(o, Receipt)])
    return outcomes
