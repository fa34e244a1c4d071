"""Celery entrypoint of publish: fan-out of one article version, kept for one release for the messages the
previous release sends (docs/operations.md, "Compatibility rules"); this release fans out through the publish
outbox. Deliveries go out from the delivery engine (engine.py), not as tasks."""

from __future__ import annotations

from functools import lru_cache

import redis
from celery import current_app, shared_task

from services.publish import fanout
from services.publish.bootstrap import bootstrap
from services.publish.publisher import Publisher
from shared.config import Settings

_transient = {"autoretry_for": (redis.RedisError,), "retry_backoff": 2, "retry_jitter": True, "max_retries": 5}


@lru_cache(maxsize=1)
def publisher() -> Publisher:
    return bootstrap(Settings.from_env(), current_app)


@shared_task(name="publish.article", acks_late=True, **_transient)
def publish_article(article_id: str, version: int) -> None:
    fanout.publish_article(publisher(), article_id, version)

