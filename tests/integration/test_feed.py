"""GET /v1/articles: the published feed, newest first, filtered and cursor-paginated."""

import time

import pytest

from services.publish.app import create_app
from shared.store import ArticleStore, connect
from tests.articles import assert_finished_article, finished
from tests.conftest import PUBLISH_KEY

AUTH = {"Authorization": f"Bearer {PUBLISH_KEY}"}


def publish(store: ArticleStore, article_id: str, **facets) -> None:
    store.accept(article_id, {"title": article_id}, "h")
    store.start_enriching(article_id, 1)
    store.save_enriched(article_id, 1, finished(article_id, **facets))
    store.mark_published(article_id, 1)
    time.sleep(0.01)  # distinct publication times


@pytest.fixture
def client(app_env):
    store = ArticleStore(connect(app_env["REDIS_URL"]))
    publish(store, "a1", language="en", source="wire", places={"Pakistan": "PK"}, topics=["medtop:16000000"])
    publish(store, "a2", language="fr", source="wire", people=["Jane Kowalski"])
    publish(store, "a3", language="en", source="cms", places={"Lisbon": "PT"})
    store.accept("draft", {"title": "not yet published"}, "h")
    return create_app(app_env).test_client()


def ids(response) -> list[str]:
    return [a["data"]["uri"].rsplit(":", 1)[1] for a in response.get_json()["items"]]


def test_newest_first_and_only_published(client):
    page = client.get("/v1/articles", headers=AUTH)
    assert ids(page) == ["a3", "a2", "a1"]
    for item in page.get_json()["items"]:
        assert_finished_article(item)
    assert ids(client.get("/v1/articles?since=2999-01-01T00:00:00Z", headers=AUTH)) == []


def test_every_given_filter_must_match(client):
    assert ids(client.get("/v1/articles?language=en", headers=AUTH)) == ["a3", "a1"]
    assert ids(client.get("/v1/articles?language=en&source=wire", headers=AUTH)) == ["a1"]
    assert ids(client.get("/v1/articles?place=PK", headers=AUTH)) == ["a1"]
    assert ids(client.get("/v1/articles?topic=medtop:16000000", headers=AUTH)) == ["a1"]
    assert ids(client.get("/v1/articles?entity=jane%20kowalski", headers=AUTH)) == ["a2"]


def test_cursor_pages_through_without_gaps_or_repeats(client):
    first = client.get("/v1/articles?limit=2", headers=AUTH).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"] is not None
    second = client.get(f"/v1/articles?limit=2&cursor={first['next_cursor']}", headers=AUTH).get_json()
    assert [a["data"]["uri"][-2:] for a in first["items"] + second["items"]] == ["a3", "a2", "a1"]
    assert second["next_cursor"] is None


def test_bad_query_is_422_naming_the_parameter(client):
    for query, name in (("limit=0", "limit"), ("language=english", "language"), ("colour=red", "colour")):
        response = client.get(f"/v1/articles?{query}", headers=AUTH)
        assert response.status_code == 422 and name in response.get_json()["errors"]
