"""Publish service: `gunicorn 'services.publish.app:create_app()'`."""

from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from services.publish.api import bp
from services.publish.bootstrap import bootstrap
from shared.celery_app import make_celery
from shared.config import Settings
from shared.logs import configure_logging
from shared.web import install_common, key_lookup


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = Settings.from_env({**os.environ, **(env or {})}).require("PUBLISH_API_KEY")
    configure_logging(settings.log_level)
    publisher = bootstrap(settings, make_celery("publish-api", settings))
    app = Flask(__name__)
    app.json.sort_keys = False
    app.extensions["newsflow"] = publisher
    install_common(app, "publish", publisher.store.ping, key_lookup({settings.publish_api_key: "publish"}))
    app.register_blueprint(bp)
    return app
