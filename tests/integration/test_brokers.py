"""What the services ask of the Celery broker itself, on Redis and on RabbitMQ."""

import pytest

from shared.celery_app import make_celery, queue_depth
from shared.config import Settings
from tests.helpers import queued_messages


@pytest.mark.broker("redis", "rabbitmq")
def test_queue_depth_counts_the_messages_waiting_on_either_broker(app_env, broker_url):
    celery = make_celery("tests", Settings.from_env(app_env))
    assert queue_depth(celery, "enrich") == 0  # never used: no queue yet on RabbitMQ, no list on Redis
    for version in (1, 2, 3):
        celery.send_task("enrich.article", args=["a", version])
    assert queue_depth(celery, "enrich") == 3
    assert queued_messages(broker_url) == [("enrich.article", ["a", v]) for v in (3, 2, 1)]
    assert queue_depth(celery, "enrich") == 3 and queue_depth(celery, "publish") == 0  # looking took none


def test_a_broker_nobody_answers_on_reads_as_an_empty_queue(app_env):
    """Ingest's backlog check must not fail requests when the broker is down: it holds nothing back."""
    celery = make_celery("tests", Settings.from_env({**app_env, "BROKER_URL": "amqp://guest:guest@127.0.0.1:1//"}))
    assert queue_depth(celery, "enrich") == 0
