"""Ingest service: `gunicorn 'services.ingest.app:create_app()'`."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from services.ingest.api import OPERATIONS, bp
from services.ingest.bootstrap import bootstrap
from shared.celery_app import make_celery
from shared.config import Settings
from shared.contracts import QUEUES
from shared.liveness import last_beat_tick
from shared.logs import configure_logging
from shared.metrics import ARTICLES, BEAT_LAST_TICK, QUEUE_DEPTH, PipelineCollector
from shared.openapi import build_spec
from shared.schema_version import require_schema_version
from shared.web import install_common, key_lookup, limit_body

DESCRIPTION = "Upstream systems post raw articles here; they are stored, then queued for enrichment."


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = Settings.from_env({**os.environ, **(env or {})}).require("INGEST_API_KEYS")
    configure_logging(settings.log_level)
    ingest = bootstrap(settings, make_celery("ingest", settings))
    require_schema_version(ingest.store.redis)
    app = Flask(__name__)
    limit_body(app, settings.ingest_max_bytes, "INGEST_MAX_BYTES")
    app.json.sort_keys = False
    app.extensions["newsflow"] = ingest
    app.extensions["background"] = [ingest.dispatcher]  # started by gunicorn.conf.py's post_worker_init
    spec = build_spec("Newsflow ingest", DESCRIPTION, OPERATIONS)
    live = {
        ARTICLES: ingest.store.state_counts,
        QUEUE_DEPTH: lambda: {queue: ingest.queue_depth(queue) for queue in QUEUES},
        BEAT_LAST_TICK: lambda: last_beat_tick(ingest.store.redis),
    }
    collector = PipelineCollector(ingest.store.redis, "ingest", live)
    install_common(app, "ingest", ingest.store.ping, key_lookup(settings.ingest_api_keys), spec, collector)
    app.register_blueprint(bp)
    return app
