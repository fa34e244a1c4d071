"""`celery -A services.scheduler.worker worker --beat -Q ops`: the clock of the pipeline.

Beat sends `ops.sweep` (run here, on queue `ops`). Run exactly one scheduler. (Due webhook retries need
no clock tick: the delivery engine claims them from the due-set itself.)
"""

from __future__ import annotations

import logging
from functools import lru_cache

import redis
from celery import beat, shared_task

from services.scheduler.sweeper import sweep
from shared.celery_app import make_celery
from shared.config import Settings
from shared.liveness import HEARTBEAT_S, record_beat_tick
from shared.logs import configure_logging
from shared.store import ArticleStore, connect

logger = logging.getLogger(__name__)
settings = Settings.from_env()
configure_logging(settings.log_level)
celery = make_celery("scheduler", settings)
celery.conf.beat_scheduler = "services.scheduler.worker:TickRecordingScheduler"
celery.conf.beat_max_loop_interval = HEARTBEAT_S  # beat ticks at least this often, so a silent beat shows
celery.conf.beat_schedule = {
    "sweep-stuck-articles": {
        "task": "ops.sweep",
        "schedule": settings.sweep_interval_s,
        "options": {"expires": settings.sweep_interval_s},
    },
}


class TickRecordingScheduler(beat.Scheduler):
    """celery's interval scheduler (no schedule file needed), recording each tick for the healthcheck and the
    `newsflow_beat_last_tick_timestamp_seconds` metric (shared.liveness)."""

    def tick(self, *args, **kwargs) -> float:
        try:
            record_beat_tick(_store().redis)
        except redis.RedisError as exc:
            logger.warning("beat tick not recorded: %s", exc)
        return super().tick(*args, **kwargs)


@lru_cache(maxsize=1)
def _store() -> ArticleStore:
    return ArticleStore(connect(settings.redis_url), settings.stuck_after_s)


@shared_task(name="ops.sweep", acks_late=True)
def sweep_task() -> int:
    send = lambda name, args: celery.send_task(name, args=args)  # noqa: E731
    return sweep(_store(), send, settings.sweep_interval_s, settings.article_retention_s)
