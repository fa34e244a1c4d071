"""Retention on real Redis: webhook payloads and finished deliveries expire, the delivery log is trimmed."""

import time
from dataclasses import replace

import pytest

from services.publish.model import Delivery
from services.publish.repository import PublishRepository
from shared.contracts import DeliveryStatus, EventType
from shared.store import connect


@pytest.fixture
def repo(redis_url):
    return PublishRepository(connect(redis_url), payload_ttl_s=600, delivery_retention_s=60)


def delivery(delivery_id: str, age_s: float) -> Delivery:
    return Delivery(delivery_id, "s1", "a1", 1, EventType.PUBLISHED, created_ts=time.time() - age_s)


def finish(repo, item: Delivery) -> None:
    succeeded = replace(item, status=DeliveryStatus.SUCCEEDED)
    repo.finish_and_claim("engine1", [(succeeded, DeliveryStatus.PENDING, True, None, 1)], 20, 60, 0, 4, 3)


def test_payloads_expire_after_the_article_retention(repo):
    repo.save_payloads([("a1", 1, "{}")])
    assert 590 <= repo.redis.ttl("nf:payload:a1:1") <= 600


def test_a_finished_delivery_leaves_the_log_after_the_retention(repo):
    old, recent = delivery("old", age_s=120), delivery("recent", age_s=1)
    assert repo.create_deliveries([(old, time.time()), (recent, time.time())]) == [True, True]
    finish(repo, old)
    finish(repo, recent)

    assert repo.delivery("old") is None  # expired at creation + 60 s, already past
    assert 55 <= repo.redis.ttl("nf:delivery:recent") <= 60
    page, _ = repo.delivery_page("s1", DeliveryStatus.SUCCEEDED, 10, None)
    assert [item.id for item in page] == ["recent"]
    assert repo.redis.zrange("nf:sub:s1:deliveries:succeeded", 0, -1) == ["recent"]

    repo.create_deliveries([(delivery("next", age_s=0), time.time())])
    assert repo.redis.zrange("nf:sub:s1:deliveries", 0, -1) == ["recent", "next"]


def test_without_retention_nothing_expires(redis_url):
    repo = PublishRepository(connect(redis_url))
    repo.save_payloads([("a1", 1, "{}")])
    old = delivery("old", age_s=10**6)
    repo.create_deliveries([(old, time.time())])
    finish(repo, old)
    assert repo.redis.ttl("nf:payload:a1:1") == -1 and repo.redis.ttl("nf:delivery:old") == -1
