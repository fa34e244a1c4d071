"""The consumer portal in headless Chromium (Debian's) against the whole running pipeline: consumer A signs in
with its key, sees its subscription's health and deliveries with their attempts, sends a signed test event,
redelivers, rotates its secret, creates and disables a subscription; nowhere does it see consumer B's data."""

import httpx
import pytest
from standardwebhooks import Webhook

from shared.contracts import DeliveryStatus, EventType
from tests.helpers import Receiver, Reply, seed_article, wait_for

pytestmark = pytest.mark.slow


def consumer_key(publish: httpx.Client, name: str) -> str:
    consumer = publish.post("/v1/consumers", json={"name": name}).json()
    return publish.post(f"/v1/consumers/{consumer['id']}/keys", json={}).json()["key"]


def sign_in(browser, base_url: str, key: str):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base_url}/portal")
    page.locator("input[name=key]").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/portal")
    return context, page


def test_a_consumer_manages_its_webhooks_in_the_portal_and_never_sees_another_consumers(start_stack, browser):
    ingest, publish = start_stack()
    key_a, key_b = consumer_key(publish, "Alpha Radio"), consumer_key(publish, "Beta Daily")
    as_a = httpx.Client(base_url=publish.base_url, headers={"Authorization": f"Bearer {key_a}"})
    as_b = httpx.Client(base_url=publish.base_url, headers={"Authorization": f"Bearer {key_b}"})
    with Receiver([Reply(200, body=b"alpha got it")]) as receiver_a, Receiver([204]) as receiver_b:
        sub_a = as_a.post("/v1/subscriptions", json={"url": receiver_a.url, "description": "alpha wire"}).json()
        sub_b = as_b.post("/v1/subscriptions", json={"url": receiver_b.url, "description": "beta secret desk"}).json()
        ingest.post("/v1/articles", json=seed_article())
        wait_for(lambda: receiver_a.received and receiver_b.received, 180, "both consumers' webhooks")
        [delivery_b] = wait_for(
            lambda: as_b.get(f"/v1/subscriptions/{sub_b['id']}/deliveries").json()["items"], 30, "B's log"
        )
        log_a = f"/v1/subscriptions/{sub_a['id']}/deliveries"
        [delivery_a] = wait_for(lambda: [d for d in as_a.get(log_a).json()["items"] if d["attempts"]], 30, "A's log")

        context, page = sign_in(browser, str(publish.base_url), key_a)
        [cookie] = context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and key_a not in cookie["value"]
        assert page.locator("h1").inner_text() == "Alpha Radio"
        section = page.locator(f"[data-subscription='{sub_a['id']}']")
        assert "alpha wire" in section.inner_text() and "circuit closed" in section.inner_text()
        row = section.locator(f"[data-delivery='{delivery_a['id']}']")
        assert (
            DeliveryStatus.SUCCEEDED in row.inner_text()
            and "HTTP 200" in row.inner_text()
            and "alpha got it" in row.inner_text()
        )

        def nothing_of_b() -> None:
            html = page.content()
            for secret_of_b in (sub_b["id"], receiver_b.url, "beta secret desk", delivery_b["id"], "Beta Daily"):
                assert secret_of_b not in html

        nothing_of_b()
        section.get_by_role("button", name="Send test event").click()
        assert "HTTP 200" in page.locator("#notice").inner_text()
        test_event = receiver_a.received[-1]
        assert Webhook(sub_a["secret"]).verify(test_event.body, test_event.headers)["type"] == EventType.TEST

        page.locator(f"[data-delivery='{delivery_a['id']}']").get_by_role("button", name="Redeliver").click()
        assert f"Redelivery of {delivery_a['id']} requested" in page.locator("#notice").inner_text()
        wait_for(
            lambda: receiver_a.received[-1].headers["webhook-id"] == delivery_a["id"] and len(receiver_a.received) == 3,
            60,
            "the redelivery",
        )

        page.locator(f"[data-subscription='{sub_a['id']}']").get_by_role("button", name="Rotate secret").click()
        new_secret = page.locator("#secret").inner_text()
        assert new_secret.startswith("whsec_") and new_secret != sub_a["secret"]

        page.locator("#new-subscription input[name=url]").fill(receiver_a.url + "/politics")
        page.locator("#new-subscription input[name=topics]").fill("medtop:11000000")
        page.get_by_role("button", name="Create").click()
        assert page.locator("#secret").inner_text().startswith("whsec_")
        [created] = [s for s in as_a.get("/v1/subscriptions").json()["items"] if s["id"] != sub_a["id"]]
        assert created["filters"]["topics"] == ["medtop:11000000"]
        page.locator(f"[data-subscription='{created['id']}']").get_by_role("button", name="Disable").click()
        assert "disabled" in page.locator(f"[data-subscription='{created['id']}']").inner_text()
        assert as_a.get(f"/v1/subscriptions/{created['id']}").json()["enabled"] is False
        nothing_of_b()
        context.close()

        context_b, page_b = sign_in(browser, str(publish.base_url), key_b)
        html_b = page_b.content()
        assert sub_b["id"] in html_b and all(
            x not in html_b for x in (sub_a["id"], created["id"], "alpha wire", "Alpha Radio")
        )
        context_b.close()
    as_a.close()
    as_b.close()
