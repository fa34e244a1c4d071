"""One Celery factory for every process, so reliability settings live in one place.

Services reach each other only by task *name* (`send_task`); the routes below are the
contract of DESIGN.md §4.
"""

from __future__ import annotations

from celery import Celery

from shared.config import Settings

TASK_ROUTES = {
    "enrich.article": {"queue": "enrich"},
    "publish.article": {"queue": "publish"},
    "publish.deliver": {"queue": "deliver"},
    "publish.poll_due": {"queue": "publish"},
    "ops.sweep": {"queue": "ops"},
}
QUEUES = ("enrich", "publish", "deliver", "ops")


def make_celery(name: str, settings: Settings) -> Celery:
    app = Celery(name, broker=settings.broker_url)
    app.conf.update(
        task_routes=TASK_ROUTES,
        task_default_queue="ops",
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # A task is acknowledged only when it finished, and re-queued if its worker died:
        # the store makes re-runs harmless.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # On SIGTERM, give running tasks a moment to finish; the rest go back to the queue.
        worker_soft_shutdown_timeout=10,
        task_time_limit=settings.task_time_limit_s,
        task_soft_time_limit=int(settings.task_time_limit_s * 0.8),
        broker_transport_options={"visibility_timeout": settings.broker_visibility_timeout_s},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_hijack_root_logger=False,
        enable_utc=True,
    )
    return app


def queue_depth(celery: Celery, queue: str) -> int:
    """Messages waiting in `queue`; 0 when it does not exist yet or the broker is down."""
    try:
        with celery.connection_for_read() as conn:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
    except Exception:  # nothing to report (or hold back for) when the broker can't say
        return 0
