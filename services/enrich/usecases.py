"""Enriching one article version: claim it, load it, run the pipeline, save the result (which hands it on to
publish, through the publish outbox, in the same store script). Pure orchestration: the store and the pipeline
come in from bootstrap, or fakes in the unit tests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from services.enrich.cleaning import NothingToEnrich
from shared.store import ArticleStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Enricher:
    """What the use case is given, wired once per process by `services.enrich.bootstrap.bootstrap`."""

    store: ArticleStore
    pipeline: Callable[[dict], dict]  # services.enrich.pipeline.enrich


@dataclass(frozen=True)
class EnrichArticle:
    article_id: str
    version: int
    request_id: str = ""  # the ingest request behind it: it goes on with the article to its webhooks


class Outcome(Enum):
    ENRICHED = "enriched"  # saved and handed to publish
    SKIPPED = "skipped"  # a stale version, one already past enriching, or one out of attempts (then failed)
    FAILED = "failed"  # nothing to enrich in it: failed for good, with the reason
    SUPERSEDED = "superseded"  # a newer version arrived while this one was enriched: that one goes on


def enrich_article(e: Enricher, command: EnrichArticle) -> Outcome:
    article_id, version = command.article_id, command.version
    if not e.store.start_enriching(article_id, version):
        log.info("skip %s v%s: stale version or already enriched", article_id, version)
        return Outcome.SKIPPED
    status, raw = e.store.status(article_id), e.store.raw(article_id)
    try:
        article = e.pipeline(
            {**raw, "id": article_id, "version": version, "received_at": status["version_received_at"]}
        )
    except NothingToEnrich as exc:
        e.store.fail(article_id, version, str(exc))
        log.warning("article %s v%s failed permanently: %s", article_id, version, exc)
        return Outcome.FAILED
    if not e.store.save_enriched(article_id, version, article, command.request_id):
        log.info("%s v%s superseded while it was enriched", article_id, version)
        return Outcome.SUPERSEDED
    log.info("enriched %s v%s", article_id, version)
    return Outcome.ENRICHED
