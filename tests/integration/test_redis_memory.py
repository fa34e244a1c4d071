"""Ingest refuses new articles (503 + Retry-After) while Redis is nearly full, before Redis refuses writes."""

import secrets
import time

import redis

from services.ingest.app import create_app
from shared.contracts import ArticleState
from tests.conftest import INGEST_KEY
from tests.faults import RedisServer
from tests.integration.test_ingest_api import assert_problem

AUTH = {"Authorization": f"Bearer {INGEST_KEY}"}
MAXMEMORY = 8 * 1024 * 1024


def text_of(size: int) -> str:
    """Random words: the store compresses an article (shared/compact.py), and a repeated word would shrink to
    next to nothing."""
    return " ".join(secrets.token_urlsafe(6) for _ in range(size // 9))


def fill(client: redis.Redis, up_to: float) -> None:
    """Filler keys until Redis holds `up_to` of its maxmemory."""
    n = 0
    while client.info("memory")["used_memory"] < up_to * MAXMEMORY:
        client.set(f"filler:{n}", b"x" * 64 * 1024)
        n += 1


def test_ingest_answers_503_before_redis_refuses_writes_and_keeps_what_it_accepted(tmp_path):
    with RedisServer(tmp_path / "redis", "everysec", "--maxmemory", str(MAXMEMORY)) as server:
        env = {
            "REDIS_URL": server.url,
            "INGEST_API_KEYS": f"wire:{INGEST_KEY}",
            "INGEST_MAX_REDIS_MEMORY_FRACTION": "0.9",
        }
        api = create_app(env).test_client()
        client = redis.Redis.from_url(server.url)
        fill(client, 0.75)
        accepted, statuses = [], []
        for n in range(60):  # ~40 KiB each, stored compressed: the 90 % line is a few dozen articles away
            response = api.post("/v1/articles", json={"title": f"T{n}", "body": text_of(40_000)}, headers=AUTH)
            statuses.append(response.status_code)
            if response.status_code != 202:
                break
            accepted.append(response.get_json()["id"])
            time.sleep(0.2)  # an upstream's pace; memory is read at most once a second
        assert statuses[:-1] == [202] * len(accepted) and accepted
        assert "nearly full" in assert_problem(response, 503)["detail"]  # ingest's check, not Redis's OOM
        assert int(response.headers["Retry-After"]) > 0
        assert client.info("memory")["used_memory"] < MAXMEMORY  # ingest said no before Redis would have
        client.set("still-writable", "1")
        for article_id in accepted:  # nothing already accepted is lost
            status = api.get(f"/v1/articles/{article_id}", headers=AUTH).get_json()
            assert status["status"] == ArticleState.RECEIVED
        client.delete(*client.keys("filler:*"))
        time.sleep(1.1)
        assert api.post("/v1/articles", json={"title": "T", "body": "after"}, headers=AUTH).status_code == 202
