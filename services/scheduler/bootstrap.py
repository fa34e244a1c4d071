"""Wire the real adapters into a Sweeper, once per process."""

from __future__ import annotations

from celery import Celery

from services.scheduler.sweeper import Sweeper
from shared.config import Settings
from shared.store import ArticleStore, connect


def bootstrap(settings: Settings, celery: Celery) -> Sweeper:
    return Sweeper(
        store=ArticleStore(connect(settings.redis_url), settings.stuck_after_s),
        send_task=lambda name, args: celery.send_task(name, args=args),
        interval_s=settings.sweep_interval_s,
        retention_s=settings.article_retention_s,
    )
