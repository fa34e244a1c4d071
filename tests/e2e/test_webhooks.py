"""Webhooks through the whole pipeline: every Procfile process on its port, the seed article posted to
ingest, subscribers with filters, a receiver scripted to fail, a rotated secret, then redeliver and
replay over HTTP. Each webhook is verified with standardwebhooks and with svix's verifier."""

import time

import pytest
from standardwebhooks import Webhook
from svix.webhooks import Webhook as SvixWebhook

from shared.contracts import DeliveryStatus, EventType
from tests.helpers import Receiver, Reply, seed_article, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(start_stack):
    return start_stack(WEBHOOK_TIMEOUT_S="1")


def verify(secret, request) -> dict:
    SvixWebhook(secret).verify(request.body, request.headers)
    return Webhook(secret).verify(request.body, request.headers)


def test_seed_article_reaches_filtered_subscribers_through_failures_rotation_redeliver_and_replay(stack):
    ingest, publish = stack
    flaky_script = [Reply(503, {"Retry-After": "1"}), Reply(200, delay_s=2.5), Reply(204)]
    with Receiver(flaky_script) as flaky, Receiver() as child, Receiver() as sports:
        politics = {"topics": ["medtop:11000000"], "entities": ["Taliban"], "places": ["PK"]}
        flaky_sub = publish.post("/v1/subscriptions", json={"url": flaky.url, "filters": politics}).json()
        child_sub = publish.post(
            "/v1/subscriptions", json={"url": child.url, "filters": {"topics": ["medtop:20000638"]}}
        ).json()
        publish.post("/v1/subscriptions", json={"url": sports.url, "filters": {"topics": ["medtop:15000000"]}})
        rotated = publish.post(f"/v1/subscriptions/{flaky_sub['id']}/rotate-secret")
        assert rotated.status_code == 200
        old, new = flaky_sub["secret"], rotated.json()["secret"]

        since = time.time()
        accepted = ingest.post("/v1/articles", json=seed_article())
        assert accepted.status_code == 202
        article_id = accepted.json()["id"]

        wait_for(lambda: len(flaky.received) == 3, 120, "three attempts at the flaky subscriber")
        webhook_id = flaky.received[0].headers["webhook-id"]
        for request in flaky.received:
            assert request.headers["webhook-id"] == webhook_id
            assert request.headers["webhook-signature"].count("v1,") == 2  # both secrets in the grace period
            for secret in (new, old):
                event = verify(secret, request)
                assert event["type"] == EventType.PUBLISHED
                assert event["data"]["uri"] == f"urn:newsflow:article:{article_id}"
        assert "medtop:11000000" in {s["literal"] for s in event["data"]["subjects"]}

        deliveries = f"/v1/subscriptions/{flaky_sub['id']}/deliveries"
        [logged] = wait_for(
            lambda: publish.get(deliveries, params={"status": DeliveryStatus.SUCCEEDED}).json()["items"], 10, "log"
        )
        assert logged["id"] == webhook_id and logged["article_id"] == article_id
        assert [a["status_code"] for a in logged["attempts"]] == [503, None, 204]
        assert logged["attempts"][1]["error"] == "timed out after 1 s"

        [child_hook] = wait_for(lambda: child.received, 30, "the subscriber to a second-level topic")
        assert verify(child_sub["secret"], child_hook)["data"]["uri"] == f"urn:newsflow:article:{article_id}"

        redelivered = publish.post(f"/v1/deliveries/{webhook_id}/redeliver")
        assert redelivered.status_code == 202
        wait_for(lambda: len(flaky.received) == 4, 30, "the redelivery")
        assert flaky.received[3].headers["webhook-id"] == webhook_id
        assert verify(new, flaky.received[3])["data"]["uri"] == f"urn:newsflow:article:{article_id}"

        replay = publish.post(
            f"/v1/subscriptions/{child_sub['id']}/replay", json={"since": time.strftime("%FT%T", time.gmtime(since))}
        )
        assert replay.status_code == 202 and replay.json()["count"] == 1
        wait_for(lambda: len(child.received) == 2, 30, "the replayed article")
        replayed = child.received[1]
        assert replayed.headers["webhook-id"] != child_hook.headers["webhook-id"]
        assert verify(child_sub["secret"], replayed)["data"] == verify(child_sub["secret"], child_hook)["data"]

        assert sports.received == []
