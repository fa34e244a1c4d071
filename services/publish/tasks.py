"""Celery entrypoints of publish, kept for one release for the messages the previous release sends
(docs/operations.md, "Compatibility rules"): this release sends none of them. Fan-out goes through the publish
outbox and deliveries out of the due-set, both by the delivery engine (engine.py)."""

from __future__ import annotations

from functools import cache

import redis
from celery import current_app, shared_task

from services.publish import fanout
from services.publish.bootstrap import bootstrap
from services.publish.publisher import Publisher
from shared.config import Settings
from shared.contracts import Task
from shared.logs import current_request_id

_transient = {"autoretry_for": (redis.RedisError,), "retry_backoff": 2, "retry_jitter": True, "max_retries": 5}


@cache
def publisher() -> Publisher:
    return bootstrap(Settings.from_env(), current_app)


@shared_task(name=Task.PUBLISH_ARTICLE, acks_late=True, **_transient)
def publish_article(article_id: str, version: int) -> None:
    fanout.publish_article(publisher(), article_id, version, current_request_id())


@shared_task(name=Task.PUBLISH_DELIVER, acks_late=True, **_transient)
def deliver(delivery_id: str) -> None:
    """The previous release's fan-out and redeliver left the delivery in the due-set, a lease ahead: due now."""
    p = publisher()
    p.repo.make_due_now(delivery_id)
    p.repo.wake()


@shared_task(name=Task.PUBLISH_POLL_DUE, acks_late=True, **_transient)
def poll_due() -> None:
    """The previous release's beat, every second: the engines claim due retries without it."""
