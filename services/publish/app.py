"""Publish service: `gunicorn 'services.publish.app:create_app()'`."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from services.publish.access import install_access, lookup
from services.publish.admin_api import OPERATIONS as ADMIN_OPERATIONS
from services.publish.admin_api import bp as admin_bp
from services.publish.api import OPERATIONS, bp
from services.publish.bootstrap import bootstrap
from services.publish.console import bp as console_bp
from services.publish.portal import bp as portal_bp
from services.publish.subscriptions import disabled_count
from shared.celery_app import make_celery
from shared.config import Settings
from shared.logs import configure_logging
from shared.metrics import SUBSCRIPTIONS_DISABLED, PipelineCollector
from shared.openapi import build_spec, json_schema
from shared.schema_version import require_schema_version
from shared.web import install_common, limit_body

DESCRIPTION = "Finished articles (IPTC ninjs), webhook subscriptions and their delivery log."


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = Settings.from_env({**os.environ, **(env or {})}).require("PUBLISH_API_KEY")
    configure_logging(settings.log_level)
    publisher = bootstrap(settings, make_celery("publish-api", settings))
    require_schema_version(publisher.store.redis)
    app = Flask(__name__)
    limit_body(app, settings.publish_max_bytes, "PUBLISH_MAX_BYTES")
    app.json.sort_keys = False
    app.extensions["newsflow"] = publisher
    json_schemas = {"enrichment": json_schema("enrichment")}
    spec = build_spec("Newsflow publish", DESCRIPTION, OPERATIONS + ADMIN_OPERATIONS, json_schemas)

    collector = PipelineCollector(
        publisher.store.redis, "publish", {SUBSCRIPTIONS_DISABLED: lambda: disabled_count(publisher)}
    )
    install_common(app, "publish", publisher.store.ping, lookup(publisher), spec, collector, json_schemas)
    install_access(app)
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(portal_bp)
    return app
