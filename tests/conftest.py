"""Fixtures shared by every tier. Redis is the machine's real one; each test run claims a db
number of its own (NEWSFLOW_TEST_REDIS_DB pins one), flushed before each test that uses it.

Tests that start real processes run once per Celery broker: Redis (the same db) and RabbitMQ (a
vhost of this run's own on the machine's RabbitMQ, its queues deleted before each test).
`@pytest.mark.broker("redis")` runs a test on the named brokers only; NEWSFLOW_TEST_BROKERS=redis
leaves RabbitMQ out of a whole run."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from urllib.parse import urlsplit

import kombu
import pytest
import redis
from amqp.exceptions import NotFound

from shared.celery_app import QUEUES
from tests.helpers import RUN_LOCK, Processes, claim_redis_db, process_env, release_redis_db

INGEST_KEY = "test-ingest-key"
PUBLISH_KEY = "test-publish-key"
TEST_REDIS = os.environ.get("NEWSFLOW_TEST_REDIS", "redis://127.0.0.1:6379")
TEST_AMQP = os.environ.get("NEWSFLOW_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672")
BROKERS = ("redis", "rabbitmq")
TEST_BROKERS = tuple(os.environ.get("NEWSFLOW_TEST_BROKERS", ",".join(BROKERS)).split(","))


def pytest_configure(config):
    config.addinivalue_line("markers", "broker(*names): run the test on these Celery brokers only (redis, rabbitmq)")


def pytest_generate_tests(metafunc):
    """A test that starts processes runs on every broker; `@pytest.mark.broker(...)` names them instead."""
    marker = metafunc.definition.get_closest_marker("broker")
    if marker:
        unknown = set(marker.args) - set(BROKERS)
        if unknown or not marker.args:
            raise ValueError(f"@pytest.mark.broker takes some of {BROKERS}, got {marker.args}")
        brokers = [name for name in marker.args if name in TEST_BROKERS]
    elif "processes" in metafunc.fixturenames:
        brokers = list(TEST_BROKERS)
    else:
        return
    metafunc.parametrize("broker", brokers, indirect=True)


@pytest.fixture(scope="session")
def test_db() -> int:
    """A db number no other test run or benchmark on this Redis is using (NEWSFLOW_TEST_REDIS_DB pins one)."""
    pinned = os.environ.get("NEWSFLOW_TEST_REDIS_DB")
    try:
        url = claim_redis_db(f"tests-{os.getpid()}", f"{TEST_REDIS}/{pinned}" if pinned else None, TEST_REDIS)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield int(url.rsplit("/", 1)[1])
    release_redis_db(url)


@pytest.fixture
def redis_url(test_db) -> str:
    url = f"{TEST_REDIS}/{test_db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.set(RUN_LOCK, os.getpid(), ex=3 * 3600)
    return url


@pytest.fixture
def broker(request) -> str:
    """The Celery broker of this test: parametrised for tests that start processes, else Redis."""
    return getattr(request, "param", "redis")


def _rabbitmqctl(*args: str) -> None:
    if not shutil.which("rabbitmqctl"):
        pytest.fail("rabbitmqctl is not installed; run with NEWSFLOW_TEST_BROKERS=redis to leave RabbitMQ out")
    done = subprocess.run(["rabbitmqctl", "--quiet", *args], capture_output=True, text=True, timeout=60)
    if done.returncode:
        pytest.fail(
            f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip()}\n"
            "Start RabbitMQ (`rabbitmq-server -detached`) or run with NEWSFLOW_TEST_BROKERS=redis."
        )


@pytest.fixture(scope="session")
def rabbitmq_vhost(test_db):
    """amqp URL of a vhost this test run has to itself, named after its Redis db."""
    vhost = f"newsflow-test-{test_db}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, urlsplit(TEST_AMQP).username or "guest", ".*", ".*", ".*")
    yield f"{TEST_AMQP}/{vhost}"
    _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def broker_url(request, broker, redis_url) -> str:
    """BROKER_URL of this test, its queues empty (the Redis db was flushed; RabbitMQ's are purged, not
    deleted: kombu's producer pool is process-wide and would not declare a deleted queue again)."""
    if broker == "redis":
        return redis_url
    url = request.getfixturevalue("rabbitmq_vhost")
    with kombu.Connection(url) as conn:
        for queue in QUEUES:
            with conn.channel() as channel, contextlib.suppress(NotFound):  # NotFound closes the channel
                channel.queue_purge(queue)
    return url


@pytest.fixture
def app_env(redis_url, broker_url) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        "BROKER_URL": broker_url,
        "INGEST_API_KEYS": f"wire:{INGEST_KEY}",
        "PUBLISH_API_KEY": PUBLISH_KEY,
        "WEBHOOK_ALLOW_PRIVATE": "true",
    }


@pytest.fixture
def processes(request, app_env, tmp_path):
    """Start Procfile entries as real processes: `processes(["enrich"], STUCK_AFTER_S="1")`."""
    started: list[Processes] = []

    def start(names: list[str], **overrides: str) -> Processes:
        group = Processes(process_env(**{**app_env, **overrides}), tmp_path)
        started.append(group)
        for name in names:
            group.start(name)
        return group

    yield start
    for group in started:
        group.stop_all()
        if getattr(request.node, "rep_call_failed", False):
            print(group.logs())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call_failed = report.failed
    return report
