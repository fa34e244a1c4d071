"""Wire the real adapters into an Ingest, once per process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from celery import Celery

from services.ingest.dispatcher import Dispatcher
from services.ingest.idempotency import IdempotencyStore
from services.ingest.limits import Threshold, memory_fraction
from shared.celery_app import queue_depth
from shared.config import Settings
from shared.contracts import Task
from shared.logs import REQUEST_ID
from shared.ratelimit import RateLimiter
from shared.store import ArticleStore, connect


@dataclass(frozen=True)
class Ingest:
    """What the ingest entrypoints are given."""

    store: ArticleStore
    dispatcher: Dispatcher  # the outbox -> enrich queue thread (started by gunicorn.conf.py's post_worker_init)
    limiter: RateLimiter
    backlog: Threshold
    memory: Threshold
    idempotency: IdempotencyStore
    queue_depth: Callable[[str], int]  # messages waiting in a Celery queue


def _enqueuer(celery: Celery) -> Callable[[list[tuple[str, int, str]]], None]:
    def enqueue(jobs: list[tuple[str, int, str]]) -> None:
        with celery.producer_or_acquire() as producer, producer.batch():  # one broker round trip per batch
            for article_id, version, request_id in jobs:
                headers = {REQUEST_ID: request_id} if request_id else None
                celery.send_task(Task.ENRICH_ARTICLE, args=[article_id, version], producer=producer, headers=headers)

    return enqueue


def bootstrap(settings: Settings, celery: Celery) -> Ingest:
    client = connect(settings.redis_url)
    store = ArticleStore(client, settings.stuck_after_s)
    depth = lambda queue: queue_depth(celery, queue)  # noqa: E731
    return Ingest(
        store=store,
        dispatcher=Dispatcher(store, _enqueuer(celery)),
        limiter=RateLimiter(client, settings.ingest_rate_limit, settings.ingest_rate_burst),
        backlog=Threshold(lambda: store.outbox_length() + depth("enrich"), settings.ingest_max_backlog),
        memory=Threshold(lambda: memory_fraction(client), settings.ingest_max_redis_memory_fraction),
        idempotency=IdempotencyStore(client),
        queue_depth=depth,
    )
