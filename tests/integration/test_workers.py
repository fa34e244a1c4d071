"""Real Celery worker processes (the Procfile's commands) on real Redis."""

import time

import pytest
from standardwebhooks import Webhook

from services.publish.app import create_app
from services.publish.repository import PublishRepository
from shared.celery_app import make_celery
from shared.config import Settings
from shared.store import ArticleStore, connect
from tests.conftest import PUBLISH_KEY
from tests.helpers import Receiver, seed_article, wait_for
from tests.integration.test_ingest_api import queued_messages

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {PUBLISH_KEY}"}


@pytest.fixture
def store(redis_url):
    return ArticleStore(connect(redis_url))


@pytest.fixture
def send(app_env):
    celery = make_celery("tests", Settings.from_env(app_env))
    return lambda name, *args: celery.send_task(name, args=list(args))


def state_of(store, article_id):
    return store.status(article_id)["status"]


def test_enrich_worker_enriches_hands_on_and_fails_poison_articles(processes, store, send, redis_url):
    processes(["enrich"])
    store.accept("good", seed_article(), "h1")
    store.accept("poison", {"title": "Empty", "html": "<html><script>x()</script></html>"}, "h1")
    send("enrich.article", "good", 1)
    send("enrich.article", "poison", 1)
    wait_for(lambda: state_of(store, "good") == "enriched", 60, "the seed article to be enriched")
    assert "Anthony Blinken" in {p["name"] for p in store.enriched("good")["people"]}
    assert queued_messages(redis_url, "publish") == [("publish.article", ["good", 1])]
    wait_for(lambda: state_of(store, "poison") == "failed", 30, "the poison article to fail")
    assert "no article text" in store.status("poison")["error"]


def test_duplicate_and_stale_messages_change_nothing(processes, store, send, redis_url):
    processes(["enrich"])
    store.accept("a", {"title": "Storm", "body": "A storm hit Lisbon on Monday."}, "h1")
    store.accept("a", {"title": "Storm", "body": "A storm hit Porto on Monday."}, "h2")
    send("enrich.article", "a", 1)  # stale: version 2 exists
    send("enrich.article", "a", 2)
    send("enrich.article", "a", 2)  # the same message twice
    wait_for(lambda: state_of(store, "a") == "enriched", 60, "version 2 to be enriched")
    time.sleep(1)
    assert store.enriched("a")["version"] == 2 and "Porto" in store.enriched("a")["bodies"][0]["value"]
    assert queued_messages(redis_url, "publish") == [("publish.article", ["a", 2])]


def test_sweeper_recovers_an_article_whose_message_was_lost(processes, store):
    processes(["enrich", "scheduler"], STUCK_AFTER_S="1")
    store.stuck_after_s = 1
    store.accept("lost", {"title": "Storm", "body": "A storm hit Lisbon on Monday."}, "h1")  # never enqueued
    wait_for(lambda: state_of(store, "lost") == "enriched", 60, "the sweeper to re-enqueue the article")


def enriched_article(store, article_id="art", version=1):
    for v in range(1, version + 1):
        store.accept(article_id, {"title": "T", "body": f"v{v}"}, f"h{v}")
    article = {"version": version, "language": "en", "places": [{"name": "Pakistan"}], "headlines": []}
    store.start_enriching(article_id, version)
    store.save_enriched(article_id, version, article)


def subscribe(app_env, url, **fields):
    """Through the publish API, as a subscriber would."""
    client = create_app(app_env).test_client()
    response = client.post("/v1/subscriptions", json={"url": url, **fields}, headers=AUTH)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def deliveries(redis_url, sub):
    return PublishRepository(connect(redis_url)).deliveries_of(sub["id"])


def test_failed_delivery_is_retried_with_the_same_webhook_id(processes, store, send, redis_url, app_env):
    with Receiver(responses=[500, 503, 200]) as receiver:
        sub = subscribe(app_env, receiver.url)
        enriched_article(store)
        processes(["publish-worker", "scheduler"])
        send("publish.article", "art", 1)
        wait_for(lambda: len(receiver.received) == 3, 30, "three attempts")
        ids = {r.headers["webhook-id"] for r in receiver.received}
        assert len(ids) == 1
        for request in receiver.received:
            assert Webhook(sub["secret"]).verify(request.body, request.headers)["type"] == "article.published"
        [delivery] = wait_for(
            lambda: [d for d in deliveries(redis_url, sub) if d["status"] == "succeeded"], 10, "success logged"
        )
        assert delivery["id"] == ids.pop()
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
        assert state_of(store, "art") == "published"
        time.sleep(1.5)
        assert len(receiver.received) == 3  # nothing is sent after success


def test_filters_choose_subscribers_and_410_disables(processes, store, send, redis_url, app_env):
    with Receiver([200]) as wanted, Receiver([200]) as unwanted, Receiver([410]) as gone:
        subscribe(app_env, wanted.url, filters={"places": ["pakistan"], "languages": ["en"]})
        subscribe(app_env, unwanted.url, filters={"places": ["France"]})
        gone_sub = subscribe(app_env, gone.url)
        enriched_article(store)
        processes(["publish-worker"])
        send("publish.article", "art", 1)
        wait_for(lambda: wanted.received and gone.received, 30, "deliveries to the matching subscribers")
        repo = PublishRepository(connect(redis_url))
        wait_for(lambda: not repo.subscription(gone_sub["id"])["enabled"], 10, "the 410 subscription disabled")
        assert repo.subscription(gone_sub["id"])["disabled_reason"] == "endpoint answered 410 Gone"
        assert unwanted.received == []
        assert len(gone.received) == 1
