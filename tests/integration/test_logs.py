"""The logs of the real processes: API keys and webhook secrets never reach them, whatever the requests and
deliveries that ran."""

import base64

import httpx
import pytest
from standardwebhooks import Webhook

from shared.celery_app import make_celery
from shared.config import Settings
from shared.contracts import Task
from shared.store import ArticleStore, connect
from tests.articles import finished
from tests.helpers import Receiver, free_port, wait_for

pytestmark = pytest.mark.slow

INGEST_KEY = "ingestkey-7f3c9a1e5b2d4068"
PUBLISH_KEY = "publishkey-2b8e6d4a0c9f1357"
WRONG_KEY = "wrongkey-5d1a9c7e3b0f2468"


def publish_enriched(app_env: dict, article_id: str) -> None:
    """Store an enriched article as enrich would, and hand it to the publish worker."""
    store = ArticleStore(connect(app_env["REDIS_URL"]))
    store.accept(article_id, {"title": "T", "body": "b"}, "hash")
    store.start_enriching(article_id, 1)
    store.save_enriched(article_id, 1, finished(article_id))
    make_celery("tests", Settings.from_env(app_env)).send_task(Task.PUBLISH_ARTICLE, args=[article_id, 1])


def test_api_keys_and_webhook_secrets_never_appear_in_any_process_log(processes, app_env, tmp_path):
    ports = {"INGEST_PORT": str(free_port()), "PUBLISH_PORT": str(free_port())}
    keys = {"INGEST_API_KEYS": f"wire:{INGEST_KEY}", "PUBLISH_API_KEY": PUBLISH_KEY}
    app_env = {**app_env, **keys}
    group = processes(["ingest", "publish", "publish-worker", "deliver"], **keys, **ports)
    ingest = httpx.Client(base_url=f"http://127.0.0.1:{ports['INGEST_PORT']}")
    publish = httpx.Client(base_url=f"http://127.0.0.1:{ports['PUBLISH_PORT']}")
    for client in (ingest, publish):
        wait_for(lambda c=client: c.get("/readyz").status_code == 200, 60, f"{client.base_url} to be ready")
    good = {"Authorization": f"Bearer {PUBLISH_KEY}"}

    with Receiver([500, 200]) as receiver:  # a failed attempt, a retry, then success
        assert ingest.post("/v1/articles", json={"title": "T", "body": "b"},
                           headers={"Authorization": f"Bearer {INGEST_KEY}"}).status_code == 202  # fmt: skip
        for client in (ingest, publish):
            assert client.get("/v1/articles/x", headers={"Authorization": f"Bearer {WRONG_KEY}"}).status_code == 401
        sub = publish.post("/v1/subscriptions", json={"url": receiver.url}, headers=good).json()
        rotated = publish.post(f"/v1/subscriptions/{sub['id']}/rotate-secret", headers=good).json()
        publish_enriched(app_env, "logged-article")
        wait_for(lambda: len(receiver.received) == 2, 60, "a failed attempt and its retry")
    Webhook(rotated["secret"]).verify(receiver.received[-1].body, receiver.received[-1].headers)
    group.stop_all()

    logs = "\n".join(path.read_text() for path in tmp_path.glob("*.log"))
    assert "delivery" in logs and "401" in logs, "the logs show nothing of what ran: the test would prove nothing"
    secrets = [INGEST_KEY, PUBLISH_KEY, WRONG_KEY, sub["secret"], rotated["secret"]]
    secrets += [s.removeprefix("whsec_") for s in (sub["secret"], rotated["secret"])]
    secrets += [base64.b64decode(s.removeprefix("whsec_")).hex() for s in (sub["secret"], rotated["secret"])]
    assert [secret for secret in secrets if secret in logs] == []
