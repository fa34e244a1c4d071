"""Wire the real adapters into a Publisher, once per process."""

from __future__ import annotations

from celery import Celery

from services.publish.publisher import Publisher
from services.publish.repository import PublishRepository
from shared.celery_app import queue_depth
from shared.config import Settings
from shared.store import ArticleStore, connect


def bootstrap(settings: Settings, celery: Celery) -> Publisher:
    client = connect(settings.redis_url)
    return Publisher(
        settings=settings,
        store=ArticleStore(client, settings.stuck_after_s),
        repo=PublishRepository(client, settings.article_retention_s, settings.delivery_retention_s),
        queue_depth=lambda queue: queue_depth(celery, queue),
    )
