"""Celery entrypoint of enrich: the message in, the use case (services/enrich/usecases.py), its duration out."""

from __future__ import annotations

import time
from functools import cache

import redis
from celery import shared_task

from services.enrich.bootstrap import bootstrap
from services.enrich.usecases import EnrichArticle, Enricher, Outcome, enrich_article
from shared.config import Settings
from shared.contracts import Task
from shared.logs import current_request_id
from shared.metrics import ENRICH_DURATION, PipelineMetrics


@cache
def enricher() -> Enricher:
    return bootstrap(Settings.from_env())


@shared_task(
    name=Task.ENRICH_ARTICLE,
    acks_late=True,
    autoretry_for=(redis.RedisError,),
    retry_backoff=2,
    retry_jitter=True,
    max_retries=5,
)
def enrich_article_task(article_id: str, version: int) -> None:
    started, e = time.perf_counter(), enricher()
    # the request id came in the message's headers (shared/celery_app.py binds it)
    command = EnrichArticle(article_id, version, current_request_id() or "")
    if enrich_article(e, command) is Outcome.ENRICHED:
        PipelineMetrics(e.store.redis).observe(ENRICH_DURATION, time.perf_counter() - started)
