"""Publish service: `gunicorn 'services.publish.app:create_app()'`."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from services.publish.api import OPERATIONS, bp
from services.publish.bootstrap import bootstrap
from services.publish.console import bp as console_bp
from services.publish.subscriptions import disabled_count
from shared.celery_app import make_celery
from shared.config import Settings
from shared.logs import configure_logging
from shared.metrics import SUBSCRIPTIONS_DISABLED, PipelineCollector
from shared.openapi import build_spec, json_schema
from shared.web import install_common, key_lookup

DESCRIPTION = "Finished articles (IPTC ninjs), webhook subscriptions and their delivery log."


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = Settings.from_env({**os.environ, **(env or {})}).require("PUBLISH_API_KEY")
    configure_logging(settings.log_level)
    publisher = bootstrap(settings, make_celery("publish-api", settings))
    app = Flask(__name__)
    app.json.sort_keys = False
    app.extensions["newsflow"] = publisher
    json_schemas = {"enrichment": json_schema("enrichment")}
    spec = build_spec("Newsflow publish", DESCRIPTION, OPERATIONS, json_schemas)

    collector = PipelineCollector(
        publisher.store.redis, "publish", {SUBSCRIPTIONS_DISABLED: lambda: disabled_count(publisher)}
    )
    lookup = key_lookup({settings.publish_api_key: "publish"})
    install_common(app, "publish", publisher.store.ping, lookup, spec, collector, json_schemas)
    app.register_blueprint(bp)
    app.register_blueprint(console_bp)
    return app
