"""The whole pipeline as real processes on their ports: POST an article to ingest and watch
the signed webhook arrive at a local receiver."""

import time

import pytest
from standardwebhooks import Webhook

from shared.contracts import ArticleState, DeliveryStatus, EventType
from shared.openapi import json_schema
from tests.articles import assert_finished_article
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
        assert event["type"] == EventType.PUBLISHED and set(event) == {"type", "timestamp", "data", "enrichment"}
        assert_finished_article(event)
        article = event["data"]
        assert article["uri"] == f"urn:newsflow:article:{article_id}"
        assert {"Anthony Blinken", "Shah Mahmood Qureshi"} <= names(article, "people")
        assert "Taliban" in names(article, "organisations")
        assert {"Pakistan", "China", "Russia", "Afghanistan"} <= names(article, "places")

        wait_for(
            lambda: ingest.get(f"/v1/articles/{article_id}").json()["status"] == ArticleState.PUBLISHED, 10, "status"
        )
        served = publish.get(f"/v1/articles/{article_id}").json()
        assert served == {"data": article, "enrichment": event["enrichment"]}
        assert_finished_article(served)
        log = publish.get(f"/v1/subscriptions/{sub['id']}/deliveries").json()["items"]
        assert [(d["id"], d["status"]) for d in log] == [(hook.headers["webhook-id"], DeliveryStatus.SUCCEEDED)]


def test_an_html_article_is_published_as_valid_ninjs_with_its_enrichment_schema_served(stack):
    ingest, publish = stack
    html = (
        "<html><body><nav>Home | World</nav><article><h1>Storm hits coast</h1><p>A powerful storm hit the coast of "
        "Portugal on Monday, forcing thousands of people to leave their homes.</p><p>Officials in Lisbon said the "
        "damage was the worst in decades, Mayor Carlos Moedas told reporters.</p></article></body></html>"
    )
    with Receiver() as receiver:
        sub = publish.post("/v1/subscriptions", json={"url": receiver.url}).json()
        upstream = {"url": "https://news.example/storm", "authors": ["Ana Silva"], "external_id": "storm-7"}
        accepted = ingest.post("/v1/articles", json={"title": "Storm hits coast", "html": html, **upstream})
        [hook] = wait_for(lambda: receiver.received, 90, "the webhook")
        event = Webhook(sub["secret"]).verify(hook.body, hook.headers)
        assert_finished_article(event)
        assert event["data"]["by"] == "Ana Silva" and event["enrichment"]["authors"] == ["Ana Silva"]
        assert {"role": "url", "value": "https://news.example/storm"} in event["data"]["altids"]
        served = publish.get(f"/v1/articles/{accepted.json()['id']}").json()
        assert_finished_article(served)
        assert served["data"] == event["data"]
    schema = publish.get("/schemas/enrichment.json", headers={"Authorization": ""})
    assert schema.status_code == 200 and schema.json() == json_schema("enrichment")
    article_schema = publish.get("/openapi.json").json()["components"]["schemas"]["Article"]
    assert article_schema["properties"]["enrichment"] == {"$ref": "#/components/schemas/Enrichment"}


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
        assert event["type"] == EventType.UPDATED and event["data"]["version"] == "2"
        assert "Porto" in names(event["data"], "places")
        assert update.headers["webhook-id"] != first_hook.headers["webhook-id"]
        time.sleep(1)
        assert len(receiver.received) == 2  # the duplicate sent nothing
