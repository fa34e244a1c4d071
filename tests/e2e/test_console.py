"""The ops console in headless Chromium (Debian's, never a downloaded browser) against the whole running
pipeline: a failed delivery shows up, the Redeliver button sends the same webhook again."""

import shutil
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from shared.contracts import ArticleState, DeliveryStatus
from tests.conftest import PUBLISH_KEY
from tests.helpers import Receiver, free_port, seed_article, wait_for

pytestmark = pytest.mark.slow

BASIC = ("ops", PUBLISH_KEY)


@pytest.fixture
def publish_only(processes) -> str:
    """Just the publish API (no workers): enough for what the console refuses."""
    port = free_port()
    processes(["publish"], PUBLISH_PORT=str(port))
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{base}/readyz").status_code == 200, 120, "publish to be ready")
    return base


def test_console_shows_a_failed_delivery_and_redelivers_it_with_the_same_webhook_id(start_stack, browser, tmp_path):
    ingest, publish = start_stack(WEBHOOK_RETRY_SCHEDULE="0.3")  # two attempts, then failed
    with Receiver([500, 500, 204]) as receiver:
        sub = publish.post("/v1/subscriptions", json={"url": receiver.url, "description": "console test"}).json()
        article_id = ingest.post("/v1/articles", json=seed_article()).json()["id"]
        failed_log = f"/v1/subscriptions/{sub['id']}/deliveries"
        [failed] = wait_for(
            lambda: publish.get(failed_log, params={"status": DeliveryStatus.FAILED}).json()["items"],
            120,
            "the failed delivery",
        )
        article = publish.get(f"/v1/articles/{article_id}").json()["data"]

        context = browser.new_context(http_credentials={"username": BASIC[0], "password": BASIC[1]})
        page = context.new_page()
        page.goto(f"{publish.base_url}/console")

        published = page.locator("#pipeline-counts tr", has_text=ArticleState.PUBLISHED).locator("td.num")
        assert published.inner_text() == "1"
        queues = page.locator("#queue-depths tr td:first-child").all_inner_texts()
        assert queues == ["enrich", "publish", "ops", "deliver"]

        row = page.locator(f"[data-article='{article_id}']")
        shown = row.inner_text()
        assert article["headlines"][0]["value"] in shown
        assert {"Anthony Blinken", "Taliban", "Pakistan"} <= set(row.locator("li").all_inner_texts())
        assert {s["name"] for s in article["subjects"]} == set(row.locator("td:last-child li").all_inner_texts())

        section = page.locator(f"[data-subscription='{sub['id']}']")
        assert "console test" in section.inner_text() and "failing since" in section.inner_text()
        failure = section.locator(f"[data-delivery='{failed['id']}']")
        assert failure.locator("td").nth(2).inner_text() == DeliveryStatus.FAILED
        assert failure.locator("td").nth(3).inner_text() == "2" and "HTTP 500" in failure.inner_text()

        page.screenshot(path=tmp_path / "console-failed.png", full_page=True)
        failure.get_by_role("button", name="Redeliver").click()
        page.wait_for_url(f"**/console?redelivered={failed['id']}")
        assert f"Redelivery of {failed['id']} requested" in page.locator("#notice").inner_text()

        wait_for(lambda: len(receiver.received) == 3, 60, "the redelivered webhook")
        first, redelivered = receiver.received[0], receiver.received[2]
        assert redelivered.headers["webhook-id"] == first.headers["webhook-id"] == failed["id"]
        event = Webhook(sub["secret"]).verify(redelivered.body, redelivered.headers)
        assert event["data"]["uri"] == f"urn:newsflow:article:{article_id}"

        def outcome_shown() -> bool:
            page.reload()
            return "Now succeeded after 3 attempt(s)" in page.locator("#notice").inner_text()

        wait_for(outcome_shown, 60, "the console to show the redelivery succeeded", interval=0.5)
        assert section.locator(f"[data-delivery='{failed['id']}']").count() == 0  # no longer a failure
        assert "last success never" not in " ".join(section.inner_text().split())

        page.screenshot(path=tmp_path / "console.png", full_page=True)
        for name in ("console-failed.png", "console.png"):
            shutil.copy(tmp_path / name, Path("/tmp") / name)
        context.close()


def test_console_asks_for_basic_credentials_and_refuses_wrong_ones(publish_only):
    for auth in (None, ("ops", "wrong-key"), ("ops", "")):
        response = httpx.get(f"{publish_only}/console", auth=auth)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Basic realm="newsflow"'
    bearer = httpx.get(f"{publish_only}/console", headers={"Authorization": f"Bearer {PUBLISH_KEY}"})
    assert bearer.status_code == 401
    assert httpx.get(f"{publish_only}/console", auth=("anyone", PUBLISH_KEY)).status_code == 200


def test_console_refuses_a_redeliver_posted_from_another_site(publish_only):
    redeliver = f"{publish_only}/console/deliveries/msg_unknown/redeliver"
    from_elsewhere = httpx.post(redeliver, auth=BASIC, headers={"Origin": "https://elsewhere.example"})
    assert from_elsewhere.status_code == 403
    from_the_page = httpx.post(redeliver, auth=BASIC, headers={"Origin": publish_only})
    assert from_the_page.status_code == 404  # past the check: there is no such delivery
