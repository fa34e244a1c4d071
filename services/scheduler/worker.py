"""`celery -A services.scheduler.worker worker --beat -Q ops`: the clock of the pipeline.

Beat sends `ops.sweep` (run here, on queue `ops`). Run exactly one scheduler. (Due webhook retries need
no clock tick: the delivery engine claims them from the due-set itself.)
"""

from __future__ import annotations

from functools import lru_cache

from celery import shared_task

from services.scheduler.sweeper import sweep
from shared.celery_app import make_celery
from shared.config import Settings
from shared.logs import configure_logging
from shared.store import ArticleStore, connect

settings = Settings.from_env()
configure_logging(settings.log_level)
celery = make_celery("scheduler", settings)
celery.conf.beat_scheduler = "celery.beat:Scheduler"  # interval jobs only: no schedule file needed
celery.conf.beat_schedule = {
    "sweep-stuck-articles": {
        "task": "ops.sweep",
        "schedule": settings.sweep_interval_s,
        "options": {"expires": settings.sweep_interval_s},
    },
}


@lru_cache(maxsize=1)
def _store() -> ArticleStore:
    return ArticleStore(connect(settings.redis_url), settings.stuck_after_s)


@shared_task(name="ops.sweep", acks_late=True)
def sweep_task() -> int:
    send = lambda name, args: celery.send_task(name, args=args)  # noqa: E731
    return sweep(_store(), send, settings.sweep_interval_s, settings.article_retention_s)
