"""The whole pipeline as real processes on their ports: POST an article to ingest and watch
the signed webhook arrive at a local receiver."""

import time

import pytest
from standardwebhooks import Webhook

from tests.helpers import Receiver, seed_article, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(start_stack):
    return start_stack()


def names(article, kind):
    return {e["name"] for e in article[kind]}


@pytest.mark.smoke
@pytest.mark.broker("redis", "rabbitmq")  # every hand-on between the services is a task on the broker
def test_seed_article_reaches_a_subscriber_signed_and_enriched(stack):
    ingest, publish = stack
    with Receiver() as receiver:
        sub = publish.post("/v1/subscriptions", json={"url": receiver.url}).json()
        posted_at = time.time()
        accepted = ingest.post("/v1/articles", json=seed_article())
        assert accepted.status_code == 202
        article_id = accepted.json()["id"]

        [hook] = wait_for(lambda: receiver.received, 90, "the webhook")
        print(f"\nseed article: POST -> webhook {hook.at - posted_at:.2f} s")
        event = Webhook(sub["secret"]).verify(hook.body, hook.headers)
        assert event["type"] == "article.published"
        article = event["data"]
        assert article["uri"] == f"urn:newsflow:article:{article_id}"
        assert {"Anthony Blinken", "Shah Mahmood Qureshi"} <= names(article, "people")
        assert "Taliban" in names(article, "organisations")
        assert {"Pakistan", "China", "Russia", "Afghanistan"} <= names(article, "places")

        wait_for(lambda: ingest.get(f"/v1/articles/{article_id}").json()["status"] == "published", 10, "status")
        assert publish.get(f"/v1/articles/{article_id}").json() == article
        log = publish.get(f"/v1/subscriptions/{sub['id']}/deliveries").json()["items"]
        assert [(d["id"], d["status"]) for d in log] == [(hook.headers["webhook-id"], "succeeded")]


def test_repost_is_a_duplicate_and_a_correction_is_published_as_an_update(stack):
    ingest, publish = stack
    with Receiver() as receiver:
        sub = publish.post("/v1/subscriptions", json={"url": receiver.url}).json()
        article = {
            "title": "Storm hits Lisbon",
            "body": "A storm hit Lisbon, Portugal on Monday.",
            "source": "wire",
            "external_id": "storm-1",
        }
        first = ingest.post("/v1/articles", json=article).json()
        wait_for(lambda: len(receiver.received) == 1, 90, "the first webhook")
        duplicate = ingest.post("/v1/articles", json=article)
        assert duplicate.status_code == 200 and duplicate.json()["duplicate"] is True

        corrected = ingest.post("/v1/articles", json={**article, "body": "A storm hit Porto, Portugal on Monday."})
        assert corrected.status_code == 202
        assert corrected.json()["id"] == first["id"] and corrected.json()["version"] == 2
        wait_for(lambda: len(receiver.received) == 2, 60, "the update webhook")
        first_hook, update = receiver.received
        event = Webhook(sub["secret"]).verify(update.body, update.headers)
        assert event["type"] == "article.updated" and event["data"]["version"] == 2
        assert "Porto" in names(event["data"], "places")
        assert update.headers["webhook-id"] != first_hook.headers["webhook-id"]
        time.sleep(1)
        assert len(receiver.received) == 2  # the duplicate sent nothing
