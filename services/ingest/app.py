"""Ingest service: `gunicorn 'services.ingest.app:create_app()'`."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask

from services.ingest.api import bp
from shared.celery_app import make_celery
from shared.config import Settings
from shared.logs import configure_logging
from shared.store import ArticleStore, connect
from shared.web import install_common, key_lookup


@dataclass(frozen=True)
class IngestContext:
    store: ArticleStore
    enqueue: Callable[[str, int], None]


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = Settings.from_env({**os.environ, **(env or {})}).require("INGEST_API_KEYS")
    configure_logging(settings.log_level)
    store = ArticleStore(connect(settings.redis_url), settings.stuck_after_s)
    celery = make_celery("ingest", settings)

    def enqueue(article_id: str, version: int) -> None:
        celery.send_task("enrich.article", args=[article_id, version])

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.ingest_max_bytes
    app.json.sort_keys = False
    app.extensions["newsflow"] = IngestContext(store, enqueue)
    install_common(app, "ingest", store.ping, key_lookup(settings.ingest_api_keys))
    app.register_blueprint(bp)
    return app
