"""Fixtures shared by every tier. Redis is the machine's real one; each test run claims a db
number of its own (NEWSFLOW_TEST_REDIS_DB pins one), flushed before each test that uses it."""

from __future__ import annotations

import os

import pytest
import redis

from tests.helpers import Processes, process_env

INGEST_KEY = "test-ingest-key"
PUBLISH_KEY = "test-publish-key"
TEST_REDIS = os.environ.get("NEWSFLOW_TEST_REDIS", "redis://127.0.0.1:6379")
RUN_LOCK = "newsflow:test-run"


@pytest.fixture(scope="session")
def test_db():
    """A db number no other test run on this Redis is using (db 0 is left to `make run`)."""
    pinned = os.environ.get("NEWSFLOW_TEST_REDIS_DB")
    for db in [int(pinned)] if pinned else range(15, 0, -1):
        client = redis.Redis.from_url(f"{TEST_REDIS}/{db}")
        if client.set(RUN_LOCK, os.getpid(), nx=True, ex=3 * 3600) or pinned:
            yield db
            client.delete(RUN_LOCK)
            return
    pytest.fail(f"every db of {TEST_REDIS} is claimed by another test run")


@pytest.fixture
def redis_url(test_db) -> str:
    url = f"{TEST_REDIS}/{test_db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.set(RUN_LOCK, os.getpid(), ex=3 * 3600)
    return url


@pytest.fixture
def app_env(redis_url) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
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
