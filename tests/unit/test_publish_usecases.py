"""The publish use cases on fakes (tests/fakes.py): the retry schedule, the circuit breaker, disabling a dead
endpoint, redelivery and replay. The delivery engine's claiming and batching run against Redis in
tests/integration/test_webhooks.py."""

import json
import time

import pytest

from services.publish.attempts import after_attempt_of, judge_endpoint
from services.publish.delivery import HTTP_ERROR, OK, TIMEOUT, Attempt
from services.publish.fanout import new_delivery, webhook_body
from services.publish.health import Health
from services.publish.publisher import Conflict, Publisher
from services.publish.replay import redeliver, replay
from shared.config import Settings
from shared.contracts import DeliveryStatus, EventType
from shared.times import iso
from tests.fakes import FakeArticleStore, FakePublishRepository

SETTINGS = {"WEBHOOK_RETRY_SCHEDULE": "10,60", "WEBHOOK_MIN_BACKOFF_S": "30", "WEBHOOK_BREAKER_WINDOW": "4",
            "WEBHOOK_BREAKER_THRESHOLD": "0.5", "WEBHOOK_BREAKER_COOLDOWN_S": "120",
            "WEBHOOK_DISABLE_AFTER_S": "3600", "WEBHOOK_REPLAY_MAX": "2"}  # fmt: skip


@pytest.fixture
def p() -> Publisher:
    store = FakeArticleStore()
    p = Publisher(Settings.from_env(SETTINGS), store, FakePublishRepository(store), queue_depth=lambda queue: 0)
    p.repo.save_subscription(subscription("sub_1"))
    return p


def subscription(sub_id: str, places=()) -> dict:
    filters = {"topics": [], "entities": [], "places": list(places), "sources": [], "languages": []}
    return {"id": sub_id, "url": "https://example.com/hook", "enabled": True,
            "event_types": list(EventType.SUBSCRIBABLE), "filters": filters}  # fmt: skip


def attempt(status_code: int | None, kind: str = HTTP_ERROR, ended: float = 1000.0) -> Attempt:
    return Attempt("2026-11-29T12:00:00.000Z", status_code, 5, None if kind == OK else "failed", "", kind=kind,
                   ended=ended)  # fmt: skip


def test_a_failed_attempt_retries_on_the_schedule_then_fails_for_good(p):
    delivery = new_delivery("sub_1", "a1", 1, EventType.PUBLISHED)
    first = after_attempt_of(p, delivery, attempt(500))
    assert first.status == DeliveryStatus.RETRYING and 1000 + 10 * 0.8 <= first.next_attempt_ts <= 1000 + 10 * 1.2
    second = after_attempt_of(p, first, attempt(500, ended=2000.0))
    assert second.status == DeliveryStatus.RETRYING and 2000 + 60 * 0.8 <= second.next_attempt_ts <= 2000 + 60 * 1.2
    last = after_attempt_of(p, second, attempt(500, ended=3000.0))
    assert (last.status, last.next_attempt_ts, len(last.attempts)) == (DeliveryStatus.FAILED, None, 3)


def test_a_timeout_waits_at_least_the_minimum_backoff(p):
    retry = after_attempt_of(p, new_delivery("sub_1", "a1", 1, EventType.PUBLISHED), attempt(None, TIMEOUT))
    assert retry.next_attempt_ts >= 1000 + 30


def test_410_gone_fails_the_delivery_at_once_and_disables_the_subscription(p):
    delivery = after_attempt_of(p, new_delivery("sub_1", "a1", 1, EventType.PUBLISHED), attempt(410))
    assert (delivery.status, delivery.next_attempt_ts) == (DeliveryStatus.FAILED, None)

    judge_endpoint(p, p.repo.subscription("sub_1"), attempt(410), [False], Health(failing_since_ts=time.time()))
    sub = p.repo.subscription("sub_1")
    assert not sub["enabled"] and sub["disabled_reason"] == "endpoint answered 410 Gone"


def test_an_endpoint_failing_for_the_whole_disable_period_is_disabled(p):
    sub, failing_since = p.repo.subscription("sub_1"), time.time() - 3601
    judge_endpoint(p, sub, attempt(500), [False], Health(failing_since_ts=failing_since))
    assert not p.repo.subscription("sub_1")["enabled"]
    assert p.repo.subscription("sub_1")["disabled_reason"].startswith("no successful delivery since")


def test_a_mostly_failing_window_opens_the_circuit_and_a_successful_probe_closes_it(p):
    sub, now = p.repo.subscription("sub_1"), time.time()
    judge_endpoint(p, sub, attempt(500), [False, True, False], Health(failing_since_ts=now))  # window not full
    assert p.repo.health("sub_1").open_until_ts is None
    judge_endpoint(p, sub, attempt(500), [False, False, True, True], Health(failing_since_ts=now))
    assert now + 119 < p.repo.health("sub_1").open_until_ts < now + 121

    judge_endpoint(p, sub, attempt(200, OK), [True, False, False, True], p.repo.health("sub_1"))  # the probe
    assert p.repo.health("sub_1").open_until_ts is None and p.repo.subscription("sub_1")["enabled"]


def test_redelivering_a_failed_delivery_makes_it_due_now_for_exactly_one_attempt(p):
    failed = after_attempt_of(p, new_delivery("sub_1", "a1", 1, EventType.PUBLISHED), attempt(410))
    p.repo.create_deliveries([(failed, 0.0)])

    again = redeliver(p, failed.id)
    assert (again.status, again.redeliver) == (DeliveryStatus.PENDING, True)
    assert abs(p.repo.due[failed.id] - time.time()) < 5 and p.repo.wakes == 1
    assert after_attempt_of(p, again, attempt(500)).status == DeliveryStatus.FAILED  # one attempt, no schedule


def test_a_delivery_being_attempted_cannot_be_redelivered_meanwhile(p):
    delivery = new_delivery("sub_1", "a1", 1, EventType.PUBLISHED)
    p.repo.create_deliveries([(delivery, 0.0)])
    p.repo.lock_and_read(delivery.id, 10)  # an engine holds it
    with pytest.raises(Conflict):
        redeliver(p, delivery.id)


def publish(p: Publisher, article_id: str, country: str, at: float) -> None:
    article = {"data": {"places": [{"name": country}]}, "enrichment": {"places": [{"country": country}]}}
    p.store.accept(article_id, {"title": article_id}, "h")
    p.store.save_enriched(article_id, 1, article)
    p.repo.save_payloads([(article_id, 1, webhook_body(EventType.PUBLISHED, article))])
    p.store.mark_published(article_id, 1)
    p.store.feed[article_id] = at


def test_replay_resends_the_matching_articles_of_the_window_oldest_first_up_to_the_cap(p):
    p.repo.save_subscription(subscription("sub_pt", places=["PT"]))
    now = time.time()
    for n, country in enumerate(["PT", "FR", "PT", "PT"]):
        publish(p, f"a{n}", country, now - 100 + n)

    result = replay(p, "sub_pt", since=now - 1000)
    assert (result["count"], result["capped"]) == (2, True)  # WEBHOOK_REPLAY_MAX = 2
    replayed = sorted(p.repo.deliveries.values(), key=lambda d: p.repo.due[d.id])
    assert [d.article_id for d in replayed] == ["a0", "a2"]
    assert {d.replay_id for d in replayed} == {result["replay_id"]}
    assert json.loads(p.repo.payload("a3", 1))["type"] == EventType.PUBLISHED

    assert result["next_since"] == iso(now - 100 + 3)  # a3's publication time
    rest = replay(p, "sub_pt", since=now - 100 + 3)
    assert (rest["count"], rest["capped"]) == (1, False)


def test_replay_of_a_disabled_subscription_is_refused(p):
    p.repo.update_subscription("sub_1", lambda sub: {**sub, "enabled": False})
    with pytest.raises(Conflict):
        replay(p, "sub_1", since=0)


def test_a_webhook_body_spliced_from_the_stored_article_is_the_text_encoding_it_again_gives():
    article = {"data": {"headline": "Talks in Islamabad", "places": [{"name": "Pakistan"}]}, "enrichment": {"k": ["é"]}}
    body = webhook_body(EventType.UPDATED, article, json.dumps(article))
    timestamp = json.loads(body)["timestamp"]
    assert body == json.dumps({"type": EventType.UPDATED, "timestamp": timestamp, **article})


def test_a_stored_article_with_more_than_data_and_enrichment_is_not_spliced_into_a_webhook_body():
    article = {"data": {"headline": "H"}, "enrichment": {}, "internal": "not for subscribers"}
    body = json.loads(webhook_body(EventType.PUBLISHED, article, json.dumps(article)))
    assert set(body) == {"type", "timestamp", "data", "enrichment"}
