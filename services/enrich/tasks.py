"""Celery entrypoint of enrich: load by id, call the pipeline, store (which hands the version on to publish
through the publish outbox, in the same script)."""

from __future__ import annotations

import logging
import time
from functools import lru_cache

import redis
from celery import shared_task

from services.enrich.cleaning import NothingToEnrich
from services.enrich.pipeline import enrich
from shared.config import Settings
from shared.metrics import ENRICH_DURATION, PipelineMetrics
from shared.store import ArticleStore, connect

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def store() -> ArticleStore:
    settings = Settings.from_env()
    return ArticleStore(connect(settings.redis_url), settings.stuck_after_s, keep_raw=settings.keep_raw)


@shared_task(
    name="enrich.article",
    acks_late=True,
    autoretry_for=(redis.RedisError,),
    retry_backoff=2,
    retry_jitter=True,
    max_retries=5,
)
def enrich_article(article_id: str, version: int) -> None:
    started, articles = time.perf_counter(), store()
    if not articles.start_enriching(article_id, version):
        log.info("skip %s v%s: stale version or already enriched", article_id, version)
        return
    status, raw = articles.status(article_id), articles.raw(article_id)
    try:
        article = enrich({**raw, "id": article_id, "version": version, "received_at": status["version_received_at"]})
    except NothingToEnrich as exc:
        articles.fail(article_id, version, str(exc))
        log.warning("article %s v%s failed permanently: %s", article_id, version, exc)
        return
    if articles.save_enriched(article_id, version, article):
        PipelineMetrics(articles.redis).observe(ENRICH_DURATION, time.perf_counter() - started)
        log.info("enriched %s v%s", article_id, version)
