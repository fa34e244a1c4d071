"""Fixtures shared by every tier. Redis is the one answering at NEWSFLOW_TEST_REDIS (default 127.0.0.1:6379),
else a redis-server this run starts (tests/tiers.py); each test run claims a db number of its own there
(NEWSFLOW_TEST_REDIS_DB pins one), flushed before each test that uses it.

Tests run with Redis as the Celery broker. Those that exercise the broker itself (task delivery, redelivery,
worker kills, outages) are marked `@pytest.mark.broker("redis", "rabbitmq")` and run once per broker:
RabbitMQ in a vhost of this run's own, its queues purged before each test. The RabbitMQ tier runs when one
answers (NEWSFLOW_TEST_BROKERS=redis leaves it out), and the report says so when it does not.

Under pytest-xdist (make test) each worker process is a test run of its own: its Redis db, its vhost, its
embedded Redis if one is needed."""

from __future__ import annotations

import contextlib
import os
import subprocess
from urllib.parse import urlsplit

import kombu
import pytest
import redis
from amqp.exceptions import NotFound

from shared.contracts import QUEUES
from tests.helpers import RUN_LOCK, Processes, claim_redis_db, process_env, release_redis_db
from tests.tiers import BROKERS, TEST_AMQP, Tiers, redis_tools_missing

INGEST_KEY = "test-ingest-key"
PUBLISH_KEY = "test-publish-key"
TIERS = pytest.StashKey[Tiers]()


def pytest_configure(config):
    config.addinivalue_line("markers", "broker(*names): run the test once on each of these Celery brokers")
    try:
        config.stash[TIERS] = Tiers.find()
    except RuntimeError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_unconfigure(config):
    if TIERS in config.stash:
        config.stash[TIERS].stop()


def pytest_report_header(config):
    return config.stash[TIERS].report()


def pytest_terminal_summary(terminalreporter, config):
    for line in config.stash[TIERS].report()[1:]:
        terminalreporter.write_line(line, yellow=True, bold=True)


def pytest_generate_tests(metafunc):
    """`@pytest.mark.broker(...)` runs a test once per broker it names (of those this run covers)."""
    marker = metafunc.definition.get_closest_marker("broker")
    if marker is None:
        return
    unknown = set(marker.args) - set(BROKERS)
    if unknown or not marker.args:
        raise ValueError(f"@pytest.mark.broker takes some of {BROKERS}, got {marker.args}")
    brokers = [name for name in marker.args if name in metafunc.config.stash[TIERS].brokers]
    metafunc.parametrize("broker", brokers, indirect=True)


@pytest.fixture(scope="session")
def redis_base(pytestconfig) -> str:
    """The run's Redis, without a db number: the one that answers, else a redis-server started now."""
    return pytestconfig.stash[TIERS].redis_url()


@pytest.fixture(scope="session")
def test_db(redis_base) -> int:
    """A db number no other test run or benchmark on this Redis is using (NEWSFLOW_TEST_REDIS_DB pins one)."""
    pinned = os.environ.get("NEWSFLOW_TEST_REDIS_DB")
    try:
        url = claim_redis_db(f"tests-{os.getpid()}", f"{redis_base}/{pinned}" if pinned else None, redis_base)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield int(url.rsplit("/", 1)[1])
    release_redis_db(url)


@pytest.fixture
def redis_url(redis_base, test_db) -> str:
    url = f"{redis_base}/{test_db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.set(RUN_LOCK, os.getpid(), ex=3 * 3600)
    return url


@pytest.fixture
def redis_tools() -> None:
    """Debian's redis-server, redis-cli and redis-check-rdb, which the backup scripts and compose's commands run."""
    if missing := redis_tools_missing():
        pytest.skip(missing)


@pytest.fixture
def broker(request) -> str:
    """The Celery broker of this test: Redis, unless `@pytest.mark.broker(...)` parametrises it."""
    return getattr(request, "param", "redis")


def _rabbitmqctl(*args: str) -> None:
    done = subprocess.run(["rabbitmqctl", "--quiet", *args], capture_output=True, text=True, timeout=60)
    if done.returncode:
        pytest.fail(
            f"rabbitmqctl {' '.join(args)} failed: {done.stderr.strip()}\n"
            "Start RabbitMQ (`rabbitmq-server -detached`) or run with NEWSFLOW_TEST_BROKERS=redis."
        )


@pytest.fixture(scope="session")
def rabbitmq_vhost():
    """amqp URL of a vhost this test run has to itself. Named after the process, not the Redis db: two runs on
    two Redises (one embedded) share the machine's RabbitMQ, and one's teardown must not delete the other's."""
    vhost = f"newsflow-test-{os.getpid()}"
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
