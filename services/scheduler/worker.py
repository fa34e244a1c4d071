"""`celery -A services.scheduler.worker worker --beat -Q ops`: the clock of the pipeline.

Beat sends `ops.sweep` (run here, on queue `ops`). Run exactly one scheduler. (Due webhook retries need
no clock tick: the delivery engine claims them from the due-set itself.)
"""

from __future__ import annotations

import logging

import redis
from celery import beat

from services.scheduler.tasks import sweeper
from shared.celery_app import make_celery
from shared.config import Settings
from shared.contracts import Task
from shared.liveness import HEARTBEAT_S, record_beat_tick
from shared.logs import configure_logging

logger = logging.getLogger(__name__)
settings = Settings.from_env()
configure_logging(settings.log_level)
celery = make_celery("scheduler", settings)
celery.conf.imports = ("services.scheduler.tasks",)
celery.conf.beat_scheduler = "services.scheduler.worker:TickRecordingScheduler"
celery.conf.beat_max_loop_interval = HEARTBEAT_S  # beat ticks at least this often, so a silent beat shows
celery.conf.beat_schedule = {
    "sweep-stuck-articles": {
        "task": Task.SWEEP,
        "schedule": settings.sweep_interval_s,
        "options": {"expires": settings.sweep_interval_s},
    },
}


class TickRecordingScheduler(beat.Scheduler):
    """celery's interval scheduler (no schedule file needed), recording each tick for the healthcheck and the
    `newsflow_beat_last_tick_timestamp_seconds` metric (shared.liveness)."""

    def tick(self, *args, **kwargs) -> float:
        try:
            record_beat_tick(sweeper().store.redis)
        except redis.RedisError as exc:
            logger.warning("beat tick not recorded: %s", exc)
        return super().tick(*args, **kwargs)
