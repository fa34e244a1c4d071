"""gunicorn settings shared by both APIs, read from the environment (README, Settings)."""

import os

from shared.config import DEFAULTS


def _setting(name: str) -> int:
    return int(os.environ.get(name) or DEFAULTS[name])


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
control_socket_disable = True  # two gunicorns on one host would share ~/.gunicorn/gunicorn.ctl
