"""One Celery factory for every process, so reliability settings live in one place.

Services reach each other only by task *name* (`send_task`); the routes are the
contract of DESIGN.md §4 (shared/contracts.py).
"""

from __future__ import annotations

import inspect
import logging
import os
import signal
import threading
from functools import cache

import redis
from celery import Celery, Task, bootsteps
from celery.signals import (
    before_task_publish,
    celeryd_init,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_shutting_down,
)
from kombu.transport import redis as kombu_redis
from kombu.transport import virtual

from shared.config import Settings
from shared.contracts import TASK_QUEUES
from shared.liveness import HEARTBEAT_S, record_heartbeat
from shared.logs import REQUEST_ID, current_request_id, start_context
from shared.metrics import TASK_REDELIVERIES, TASKS, PipelineMetrics
from shared.schema_version import SchemaTooNew, require_schema_version
from shared.store import connect

log = logging.getLogger(__name__)


# A stop (SIGTERM) lets running tasks finish for WARM_SHUTDOWN_S, then for SOFT_SHUTDOWN_S more, then hands them
# back: both together, plus a few seconds to exit, stay inside compose's stop_grace_period (30 s).
WARM_SHUTDOWN_S = 10
SOFT_SHUTDOWN_S = 10


def make_celery(name: str, settings: Settings) -> Celery:
    app = Celery(name, broker=settings.broker_url)
    app.conf.update(
        task_routes={name: {"queue": queue} for name, queue in TASK_QUEUES.items()},
        task_default_queue="ops",
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # A task is acknowledged only when it finished, and re-queued if its worker died:
        # the store makes re-runs harmless.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # The soft phase of a cold shutdown (see _bound_warm_shutdown): running tasks get this long, then are
        # cancelled and, being unacknowledged, go back to the queue.
        worker_soft_shutdown_timeout=SOFT_SHUTDOWN_S,
        task_time_limit=settings.task_time_limit_s,
        task_soft_time_limit=int(settings.task_time_limit_s * 0.8),
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_hijack_root_logger=False,
        enable_utc=True,
        **_broker_options(settings),
    )
    app.steps["consumer"].add(Heartbeat)
    return app


class _RedisQoS(kombu_redis.QoS):
    """Workaround for kombu 5.7.0 (no release or PR fixes it; the class of celery/kombu#582 and #970). When the
    Redis broker goes away while the worker holds an unacked task, the channel is closed after its transport
    has let go of the connection; restoring the unacked messages on close, or acknowledging a task that ends
    afterwards, then asks for a new client, `_connparams` reads `transport.client.hostname` with the transport
    or its client already None, and the AttributeError kills the worker. With no connection there is nothing
    to restore them to or acknowledge them on: leave them. The messages stay in Redis's unacked hash (handed
    out again after the visibility timeout: the tasks are idempotent), and the store still has the work."""

    def _connection_gone(self) -> bool:
        transport = self.channel.connection
        return transport is None or transport.client is None

    def restore_unacked(self, client=None):
        if not self._connection_gone():
            super().restore_unacked(client)

    def ack(self, delivery_tag):
        if self._connection_gone():
            virtual.QoS.ack(self, delivery_tag)  # forget it here only
        else:
            super().ack(delivery_tag)

    def reject(self, delivery_tag, requeue=False):
        if self._connection_gone():
            virtual.QoS.ack(self, delivery_tag)
        else:
            super().reject(delivery_tag, requeue)


class _RedisChannel(kombu_redis.Channel):
    QoS = _RedisQoS


class RedisTransport(kombu_redis.Transport):
    """kombu's Redis transport with the worker-killing restore on a lost connection worked around."""

    Channel = _RedisChannel


def _broker_options(settings: Settings) -> dict:
    """How an unacknowledged task comes back, which differs by broker."""
    if settings.broker_url.startswith("redis"):
        # Redis hands a task out again once it has been unacked this long; an ack survives a reconnect.
        return {
            "broker_transport": RedisTransport,
            "broker_transport_options": {"visibility_timeout": settings.broker_visibility_timeout_s},
        }
    # RabbitMQ re-queues a task the moment its consumer's connection drops, and the ack cannot be sent on
    # a new connection: stop the running copy rather than let a second worker run it at the same time.
    return {"worker_cancel_long_running_tasks_on_connection_loss": True}


def queue_depth(celery: Celery, queue: str) -> int:
    """Messages waiting in `queue`; 0 when it does not exist yet or the broker is down."""
    try:
        with celery.connection_for_read() as conn:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
    except Exception:  # nothing to report (or hold back for) when the broker can't say
        return 0


# Starting, staying alive and stopping, the same in every worker.


@worker_init.connect
def _check_schema_version(**_) -> None:
    """Refuse to start against data of a newer release (shared.schema_version)."""
    try:
        require_schema_version(connect(Settings.from_env().redis_url))
    except SchemaTooNew as exc:
        log.critical("%s", exc)
        raise SystemExit(3) from exc


class Heartbeat(bootsteps.StartStopStep):
    """Refreshes this worker's heartbeat (shared.liveness) every HEARTBEAT_S from the consumer's event loop,
    once it consumes tasks: a hung loop or a stopped process lets it age, and the healthcheck fails."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.timer_ref = None

    def start(self, parent) -> None:
        # a short timeout: an unanswering Redis must not hold up the loop that also consumes tasks
        client = redis.Redis.from_url(Settings.from_env().redis_url, socket_timeout=1, socket_connect_timeout=1)
        node = parent.hostname

        def beat() -> None:
            try:
                record_heartbeat(client, node)
            except redis.RedisError as exc:
                log.warning("heartbeat not recorded: %s", exc)

        beat()
        self.timer_ref = parent.timer.call_repeatedly(HEARTBEAT_S, beat)

    def stop(self, parent) -> None:
        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None


@worker_shutting_down.connect
def _bound_warm_shutdown(how: str, **_) -> None:
    """`docker stop` sends one SIGTERM, then SIGKILL after the grace period. Celery's warm shutdown (SIGTERM) waits
    for running tasks however long they take: past WARM_SHUTDOWN_S, go on to its cold shutdown (SIGQUIT), whose
    soft phase waits SOFT_SHUTDOWN_S more, then cancels the tasks still running; unacknowledged, they are handed
    back to the broker. A worker that finishes in time exits before the timer fires."""
    if how == "Warm":
        timer = threading.Timer(WARM_SHUTDOWN_S, os.kill, (os.getpid(), signal.SIGQUIT))
        timer.daemon = True
        timer.start()


# Logging, request ids and task metrics, the same in every process.

LOG_FIELDS = ("article_id", "version", "delivery_id", "subscription_id")  # task arguments put on each log line


@setup_logging.connect
def _keep_our_logging(**_) -> None:
    """Every worker module calls shared.logs.configure_logging; with a receiver here Celery adds no handlers
    of its own and leaves stdout alone."""


@celeryd_init.connect
def _no_banner(instance, **_) -> None:
    instance.quiet = True  # the start-up banner is plain text; the JSON "ready" line says the same


@before_task_publish.connect
def _carry_request_id(headers: dict, **_) -> None:
    """A task sent while handling a request (or another task) carries its request id on."""
    request_id = current_request_id()
    if request_id:
        headers.setdefault(REQUEST_ID, request_id)


@task_prerun.connect
def _start_task(task: Task, args: tuple, kwargs: dict, **_) -> None:
    named = {**dict(zip(_parameters(task), args, strict=False)), **kwargs}
    fields = {name: named[name] for name in LOG_FIELDS if name in named}
    start_context(request_id=getattr(task.request, REQUEST_ID, None), task=task.name, task_id=task.request.id, **fields)
    if (task.request.delivery_info or {}).get("redelivered"):
        _task_metrics().count(TASK_REDELIVERIES, task=task.name)


@task_postrun.connect
def _count_task(task: Task, state: str | None = None, **_) -> None:
    _task_metrics().count(TASKS, task=task.name, outcome=(state or "unknown").lower())


@cache
def _parameters(task: Task) -> tuple[str, ...]:
    return tuple(inspect.signature(task.run).parameters)


@cache
def _task_metrics() -> PipelineMetrics:
    return PipelineMetrics(connect(Settings.from_env().redis_url))
