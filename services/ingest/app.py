"""Ingest service: `gunicorn 'services.ingest.app:create_app()'`."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from celery import Celery
from flask import Flask

from services.ingest.api import OPERATIONS, bp
from services.ingest.dispatcher import Dispatcher
from services.ingest.idempotency import IdempotencyStore
from services.ingest.limits import Threshold, memory_fraction
from shared.celery_app import QUEUES, make_celery, queue_depth
from shared.config import Settings
from shared.liveness import last_beat_tick
from shared.logs import REQUEST_ID, configure_logging
from shared.metrics import ARTICLES, BEAT_LAST_TICK, QUEUE_DEPTH, PipelineCollector
from shared.openapi import build_spec
from shared.ratelimit import RateLimiter
from shared.schema_version import require_schema_version
from shared.store import ArticleStore, connect
from shared.web import install_common, key_lookup, limit_body

DESCRIPTION = "Upstream systems post raw articles here; they are stored, then queued for enrichment."


@dataclass(frozen=True)
class IngestContext:
    store: ArticleStore
    dispatcher: Dispatcher
    limiter: RateLimiter
    backlog: Threshold
    memory: Threshold
    idempotency: IdempotencyStore


def _enqueuer(celery: Celery) -> Callable[[list[tuple[str, int, str]]], None]:
    def enqueue(jobs: list[tuple[str, int, str]]) -> None:
        with celery.producer_or_acquire() as producer, producer.batch():  # one broker round trip per batch
            for article_id, version, request_id in jobs:
                headers = {REQUEST_ID: request_id} if request_id else None
                celery.send_task("enrich.article", args=[article_id, version], producer=producer, headers=headers)

    return enqueue


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = Settings.from_env({**os.environ, **(env or {})}).require("INGEST_API_KEYS")
    configure_logging(settings.log_level)
    client = connect(settings.redis_url)
    require_schema_version(client)
    celery = make_celery("ingest", settings)
    store = ArticleStore(client, settings.stuck_after_s)
    context = IngestContext(
        store=store,
        dispatcher=Dispatcher(store, _enqueuer(celery)),
        limiter=RateLimiter(client, settings.ingest_rate_limit, settings.ingest_rate_burst),
        backlog=Threshold(lambda: store.outbox_length() + queue_depth(celery, "enrich"), settings.ingest_max_backlog),
        memory=Threshold(lambda: memory_fraction(client), settings.ingest_max_redis_memory_fraction),
        idempotency=IdempotencyStore(client),
    )
    app = Flask(__name__)
    limit_body(app, settings.ingest_max_bytes, "INGEST_MAX_BYTES")
    app.json.sort_keys = False
    app.extensions["newsflow"] = context
    app.extensions["background"] = [context.dispatcher]  # started by gunicorn.conf.py's post_worker_init
    spec = build_spec("Newsflow ingest", DESCRIPTION, OPERATIONS)
    live = {
        ARTICLES: store.state_counts,
        QUEUE_DEPTH: lambda: {queue: queue_depth(celery, queue) for queue in QUEUES},
        BEAT_LAST_TICK: lambda: last_beat_tick(client),
    }
    collector = PipelineCollector(client, "ingest", live)
    install_common(app, "ingest", context.store.ping, key_lookup(settings.ingest_api_keys), spec, collector)
    app.register_blueprint(bp)
    return app
