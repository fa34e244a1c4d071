"""What the services ask of the Celery broker itself, on Redis and on RabbitMQ."""

import time

import pytest
import redis

from shared.celery_app import make_celery, queue_depth
from shared.config import Settings
from shared.contracts import Task
from tests.faults import RedisServer
from tests.helpers import queued_messages, wait_for


@pytest.mark.broker("redis", "rabbitmq")
def test_queue_depth_counts_the_messages_waiting_on_either_broker(app_env, broker_url):
    celery = make_celery("tests", Settings.from_env(app_env))
    assert queue_depth(celery, "enrich") == 0  # never used: no queue yet on RabbitMQ, no list on Redis
    for version in (1, 2, 3):
        celery.send_task(Task.ENRICH_ARTICLE, args=["a", version])
    assert queue_depth(celery, "enrich") == 3
    assert queued_messages(broker_url) == [(Task.ENRICH_ARTICLE, ["a", v]) for v in (3, 2, 1)]
    assert queue_depth(celery, "enrich") == 3 and queue_depth(celery, "publish") == 0  # looking took none


def test_a_broker_nobody_answers_on_reads_as_an_empty_queue(app_env):
    """Ingest's backlog check must not fail requests when the broker is down: it holds nothing back."""
    celery = make_celery("tests", Settings.from_env({**app_env, "BROKER_URL": "amqp://guest:guest@127.0.0.1:1//"}))
    assert queue_depth(celery, "enrich") == 0


@pytest.mark.slow
@pytest.mark.broker("redis")
def test_a_busy_worker_survives_its_redis_broker_sigkilled_ten_times(processes, app_env, tmp_path):
    """kombu 5.7.0 kills a worker whose Redis broker goes away while it holds an unacked task (see
    shared/celery_app.RedisTransport). The store stays on the test Redis; only the broker is crashed."""
    with RedisServer(tmp_path / "broker") as broker:
        env = {**app_env, "BROKER_URL": broker.url}
        worker = processes(["publish-worker"], BROKER_URL=broker.url).running["publish-worker"]
        celery = make_celery("tests", Settings.from_env(env))
        client = redis.Redis.from_url(broker.url)
        for crash in range(10):
            with celery.producer_or_acquire() as producer:  # articles nobody enriched: each task a quick no-op
                for n in range(1000):
                    celery.send_task(Task.PUBLISH_ARTICLE, args=[f"none{crash}-{n}", 1], producer=producer)
            wait_for(lambda: client.llen("publish") < 900 and client.hlen("unacked"), 60, "the worker busy", 0.01)
            broker.crash()
            time.sleep(3)  # the worker finds its connection gone and closes its channel
            assert worker.poll() is None, f"the worker died after broker crash {crash + 1}"
            broker.start()
            wait_for(lambda: client.llen("publish") < 100, 120, f"the worker consuming again after crash {crash + 1}")
        assert worker.poll() is None
