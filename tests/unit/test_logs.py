import json
import logging

import pytest
import structlog

from shared.contracts import Task
from shared.logs import bind, configure_logging, current_request_id, request_id_from, start_context


@pytest.fixture
def json_lines(capsys):
    """Reads what was logged since `configure_logging` ran in the test (sys.stderr is the test's own then)."""
    root, pool = logging.getLogger(), logging.getLogger("multiprocessing")
    saved = root.handlers[:], root.level, pool.handlers[:]
    yield lambda: [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    root.handlers[:], pool.handlers[:] = saved[0], saved[2]
    root.setLevel(saved[1])
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


def test_stdlib_and_structlog_lines_are_one_json_object_each_with_the_bound_context(json_lines):
    configure_logging("INFO")
    start_context(request_id="r-1", article_id="a1", version=2, delivery_id=None)
    logging.getLogger("celery.app.trace").info("Task %s succeeded", Task.ENRICH_ARTICLE)
    structlog.get_logger("gunicorn.access").info("request", status=202)

    first, second = json_lines()
    assert first["event"] == "Task enrich.article succeeded" and first["logger"] == "celery.app.trace"
    assert {k: first[k] for k in ("request_id", "article_id", "version", "level")} == {
        "request_id": "r-1", "article_id": "a1", "version": 2, "level": "info",
    }  # fmt: skip
    assert "delivery_id" not in first
    assert second["status"] == 202 and second["request_id"] == "r-1"


def test_a_new_context_forgets_the_previous_ones_fields(json_lines):
    configure_logging("INFO")
    start_context(request_id="r-1", subscription_id="sub_1")
    start_context(request_id="r-2")
    bind(delivery_id="msg_1")
    logging.getLogger("x").warning("attempt")

    [line] = json_lines()
    assert current_request_id() == "r-2"
    assert line["delivery_id"] == "msg_1" and "subscription_id" not in line


def test_webhook_secrets_and_bearer_keys_are_masked_if_they_reach_a_line(json_lines):
    configure_logging("INFO")
    logging.getLogger("x").warning("sent %s with Authorization: Bearer k3y-123", "whsec_QUJDREVGRw==")

    [line] = json_lines()
    assert "k3y-123" not in line["event"] and "QUJDREVGRw" not in line["event"]
    assert line["event"] == "sent whsec_[redacted] with Authorization: Bearer [redacted]"


def test_the_clients_request_id_is_kept_only_when_short_and_plain():
    assert request_id_from("upstream-42.a:b_c") == "upstream-42.a:b_c"
    for bad in (None, "", "x" * 129, 'x" level=error', "line\nbreak"):
        made = request_id_from(bad)
        assert made != bad and len(made) == 32


def test_the_schedulers_clock_ticks_stay_out_of_info_logs_but_not_their_errors(json_lines):
    configure_logging("INFO")
    logging.getLogger("celery.worker.strategy").info("Task %s[1] received", Task.SWEEP)
    logging.getLogger("celery.beat").info("Scheduler: Sending due task sweep (ops.sweep)")
    logging.getLogger("celery.app.trace").error("Task %s[2] raised", Task.SWEEP)
    logging.getLogger("celery.worker.strategy").info("Task %s[3] received", Task.ENRICH_ARTICLE)

    assert [line["event"] for line in json_lines()] == ["Task ops.sweep[2] raised", "Task enrich.article[3] received"]
