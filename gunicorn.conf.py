"""gunicorn settings shared by both APIs, read from the environment (README, Settings)."""

import os
import shutil
import tempfile

import structlog
from gunicorn.glogging import Logger

from shared.config import DEFAULTS
from shared.logs import configure_logging

# The HTTP counter of all this server's workers, summed at /metrics (prometheus_client multiprocess mode).
# Set before any worker imports prometheus_client; a fresh directory per server, so two APIs on one host
# never mix their counts.
_METRICS_DIR = tempfile.mkdtemp(prefix="newsflow-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _METRICS_DIR


def _setting(name: str) -> int:
    return int(os.environ.get(name) or DEFAULTS[name])


class JsonLogger(Logger):
    """gunicorn's own lines and one line per request, as JSON through the root handler (shared.logs)."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.handlers.clear()
            log.propagate = True
        configure_logging(cfg.loglevel)

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        headers = {name.lower(): value for name, value in resp.headers}
        structlog.get_logger("gunicorn.access").info(
            "request",
            method=req.method,
            path=req.path,
            status=resp.status_code,
            duration_ms=round(request_time.total_seconds() * 1000, 1),
            request_id=headers.get("x-request-id"),
        )


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    shutil.rmtree(_METRICS_DIR, ignore_errors=True)


workers = _setting("WEB_CONCURRENCY")
threads = _setting("WEB_THREADS")
worker_class = "gthread"  # threads overlap the Redis and broker round trips of each request
timeout = _setting("WEB_TIMEOUT_S")
graceful_timeout = 20
keepalive = 5  # upstream clients and load balancers reuse connections
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
logger_class = JsonLogger
loglevel = os.environ.get("LOG_LEVEL") or DEFAULTS["LOG_LEVEL"]
control_socket_disable = True  # two gunicorns on one host would share ~/.gunicorn/gunicorn.ctl


def post_worker_init(worker):
    """An app's background threads (ingest's outbox dispatcher) start in each worker, after the fork."""
    for thread in getattr(worker.wsgi, "extensions", {}).get("background", ()):
        thread.start()


def worker_exit(server, worker):
    """On a graceful stop, let the background threads finish what they hold (the dispatcher its batch). A worker
    whose app failed to load (e.g. a newer schema version in Redis) has none."""
    for thread in getattr(getattr(worker, "wsgi", None), "extensions", {}).get("background", ()):
        thread.stop()
        thread.join(timeout=10)
