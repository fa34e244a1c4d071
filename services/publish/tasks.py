"""Celery entrypoints of publish: fan-out, one delivery attempt, and the due-retry poller."""

from __future__ import annotations

from functools import lru_cache

import redis
from celery import current_app, shared_task

from services.publish import attempts, fanout
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


@shared_task(name="publish.deliver", acks_late=True, **_transient)
def deliver(delivery_id: str) -> None:
    attempts.deliver(publisher(), delivery_id)


@shared_task(name="publish.poll_due", acks_late=True, **_transient)
def poll_due() -> None:
    attempts.enqueue_due(publisher())
