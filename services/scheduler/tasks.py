"""Celery entrypoint of the scheduler: `ops.sweep` in, the sweep (services/scheduler/sweeper.py) run."""

from __future__ import annotations

from functools import cache

from celery import current_app, shared_task

from services.scheduler.bootstrap import bootstrap
from services.scheduler.sweeper import Sweeper, sweep
from shared.config import Settings
from shared.contracts import Task


@cache
def sweeper() -> Sweeper:
    return bootstrap(Settings.from_env(), current_app)


@shared_task(name=Task.SWEEP, acks_late=True)
def sweep_task() -> int:
    return sweep(sweeper())
