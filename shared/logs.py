"""Process-wide logging: one JSON object per line, from our code and from Celery's, gunicorn's and
every library's stdlib loggers alike. Called once by every entrypoint.

Context (request_id, article_id, version, delivery_id, subscription_id) is bound per request or task
with `bind` and lands on every line logged while it runs, whoever logs it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import uuid

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars

from shared.contracts import Task

REQUEST_ID = "request_id"
# A client's X-Request-Id is kept only when it is short and plain, so it cannot forge log lines.
_REQUEST_ID_FORMAT = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Defence in depth: a webhook secret or a bearer key that reaches a log line anyway is masked.
_SECRETS = re.compile(r"(whsec_)[A-Za-z0-9+/=]+|(bearer\s+)[^\s\"',]+", re.IGNORECASE)


def _redact_secrets(_, __, event: dict) -> dict:
    for key, value in event.items():
        if isinstance(value, str) and _SECRETS.search(value):
            event[key] = _SECRETS.sub(lambda m: (m.group(1) or m.group(2)) + "[redacted]", value)
    return event


# The scheduler's clock (an ops.sweep every few seconds) would drown everything
# else at INFO: Celery's INFO lines about those ticks show only with LOG_LEVEL=DEBUG; warnings and errors always.
_CLOCK_TASKS = (Task.SWEEP,)


def _not_a_clock_tick(record: logging.LogRecord) -> bool:
    if record.levelno != logging.INFO or not record.name.startswith("celery"):
        return True
    return not any(task in record.getMessage() for task in _CLOCK_TASKS)


def _add_pid(_, __, event: dict) -> dict:
    event["pid"] = os.getpid()
    return event


_ENRICH = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
    _add_pid,
]


def configure_logging(level: str = "INFO") -> None:
    """Route every logger through one JSON handler on stderr (idempotent: re-running replaces it)."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_ENRICH,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact_secrets,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    if level.upper() != "DEBUG":
        handler.addFilter(_not_a_clock_tick)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # billiard (Celery's process pool) logs a dead pool process on a logger that does not propagate
    logging.getLogger("multiprocessing").handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)
    structlog.configure(
        processors=[*_ENRICH, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def bind(**fields: object) -> None:
    """Add fields to every line logged by this request or task from now on (None values are left out)."""
    bind_contextvars(**{name: value for name, value in fields.items() if value is not None})


def start_context(**fields: object) -> None:
    """A new request or task: forget the previous one's fields, bind these."""
    clear_contextvars()
    bind(**fields)


def current_request_id() -> str | None:
    return get_contextvars().get(REQUEST_ID)


def request_id_from(header: str | None) -> str:
    """The client's request id when it is well-formed, else a new one."""
    if header and _REQUEST_ID_FORMAT.fullmatch(header):
        return header
    return uuid.uuid4().hex
