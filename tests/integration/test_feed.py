"""GET /v1/articles: the published feed, newest first, filtered through the feed index, cursor-paginated."""

import time

import pytest

from services.publish.app import create_app
from services.publish.bootstrap import bootstrap
from services.publish.fanout import drain_outbox, webhook_body
from services.publish.feed import article_index
from services.publish.repository import PublishRepository
from shared.celery_app import make_celery
from shared.config import Settings
from shared.contracts import EventType
from shared.store import ArticleStore, connect
from tests.articles import assert_finished_article, finished
from tests.conftest import PUBLISH_KEY

AUTH = {"Authorization": f"Bearer {PUBLISH_KEY}"}


def publish(store: ArticleStore, article_id: str, version: int = 1, **facets) -> None:
    """As enrich and fan-out would: accepted, enriched, its webhook payload saved, then published with its index
    entries."""
    store.accept(article_id, {"title": article_id, "v": version}, f"h{version}")
    store.start_enriching(article_id, version)
    doc = finished(article_id, version, **facets)
    store.save_enriched(article_id, version, doc)
    PublishRepository(store.redis).save_payloads([(article_id, version, webhook_body(EventType.PUBLISHED, doc))])
    store.mark_published(article_id, version, article_index(doc))
    time.sleep(0.002)  # distinct publication times (ties are covered on their own below)


@pytest.fixture
def store(app_env):
    return ArticleStore(connect(app_env["REDIS_URL"]))


@pytest.fixture
def client(app_env, store):
    publish(store, "a1", language="en", source="wire", places={"Pakistan": "PK"}, topics=["medtop:16000000"])
    publish(store, "a2", language="fr", source="wire", people=["Jane Kowalski"])
    publish(store, "a3", language="en", source="cms", places={"Lisbon": "PT"})
    store.accept("draft", {"title": "not yet published"}, "h")
    return create_app(app_env).test_client()


def page(client, query: str) -> dict:
    response = client.get(f"/v1/articles?{query}", headers=AUTH)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ids(body: dict) -> list[str]:
    return [a["data"]["uri"].rsplit(":", 1)[1] for a in body["items"]]


def walk(client, query: str, cursor: str | None = None, max_pages: int = 100) -> list[str]:
    """Every id of a query, page after page (from `cursor` if given)."""
    seen = []
    for _ in range(max_pages):
        body = page(client, f"{query}&cursor={cursor}" if cursor else query)
        seen += ids(body)
        if (cursor := body["next_cursor"]) is None:
            return seen
    raise AssertionError(f"more than {max_pages} pages")


def test_newest_first_and_only_published(client):
    body = page(client, "")
    assert ids(body) == ["a3", "a2", "a1"]
    for item in body["items"]:
        assert_finished_article(item)
    assert ids(page(client, "since=2999-01-01T00:00:00Z")) == []


def test_every_given_filter_must_match(client):
    assert ids(page(client, "language=en")) == ["a3", "a1"]
    assert ids(page(client, "language=en&source=wire")) == ["a1"]
    assert ids(page(client, "place=PK")) == ids(page(client, "place=pakistan")) == ["a1"]
    assert ids(page(client, "topic=medtop:16000000")) == ids(page(client, "topic=16000000")) == ["a1"]
    assert ids(page(client, "entity=jane%20kowalski")) == ["a2"]
    assert ids(page(client, "entity=jane%20kowalski&language=en")) == []


def test_cursor_pages_through_without_gaps_or_repeats(client):
    first = page(client, "limit=2")
    assert len(first["items"]) == 2 and first["next_cursor"] is not None
    second = page(client, f"limit=2&cursor={first['next_cursor']}")
    assert ids(first) + ids(second) == ["a3", "a2", "a1"]
    assert second["next_cursor"] is None


def test_a_full_page_of_rare_matches_however_many_newer_articles_lie_between(app_env, store):
    """The issue's case: 10 articles naming a person, then 1,300 newer ones that do not."""
    for n in range(10):
        publish(store, f"old{n}", people=["Ada Lovelace"], topics=["medtop:13000000"])
    for n in range(1300):
        publish(store, f"new{n}", people=["Someone Else"], topics=["medtop:15000000"])
    client = create_app(app_env).test_client()
    body = page(client, "entity=Ada%20Lovelace&limit=10")
    assert ids(body) == [f"old{n}" for n in reversed(range(10))] and body["next_cursor"] is None
    assert walk(client, "entity=Ada%20Lovelace&limit=3") == [f"old{n}" for n in reversed(range(10))]
    both = page(client, "entity=ada%20lovelace&topic=medtop:13000000&limit=4")
    assert ids(both) == ["old9", "old8", "old7", "old6"] and both["next_cursor"]


def test_the_cursor_is_stable_while_newer_articles_arrive_and_on_equal_publication_times(app_env, store):
    for n in range(6):
        publish(store, f"p{n}", topics=["medtop:11000000"])
    client = create_app(app_env).test_client()
    first = page(client, "topic=medtop:11000000&limit=2")
    publish(store, "newer", topics=["medtop:11000000"])
    rest = walk(client, "topic=medtop:11000000&limit=2", first["next_cursor"])
    assert ids(first) + rest == ["p5", "p4", "p3", "p2", "p1", "p0"]
    tied = [f"t{n}" for n in range(5)]
    for article_id in tied:
        publish(store, article_id)
    store.redis.zadd("nf:feed", dict.fromkeys(tied, 1.0))  # equal publication times: ordered by id, none skipped
    assert walk(client, "limit=2")[-5:] == sorted(tied, reverse=True)


def test_a_new_version_is_found_by_its_own_facets_only(app_env, store):
    publish(store, "story", places={"Lisbon": "PT"}, topics=["medtop:03000000"])
    publish(store, "story", version=2, places={"Porto": "PT"}, topics=["medtop:17000000"])
    client = create_app(app_env).test_client()
    assert ids(page(client, "place=Porto")) == ids(page(client, "topic=medtop:17000000")) == ["story"]
    assert ids(page(client, "place=Lisbon")) == ids(page(client, "topic=medtop:03000000")) == []
    assert ids(page(client, "place=PT")) == ["story"]


def test_retention_takes_an_article_out_of_the_index(app_env, store):
    publish(store, "gone", people=["Ada Lovelace"])
    cutoff = time.time()
    publish(store, "kept", people=["Ada Lovelace"])
    assert store.expire_published(cutoff) == 1
    assert ids(page(create_app(app_env).test_client(), "entity=Ada%20Lovelace")) == ["kept"]
    assert store.redis.zrange("nf:ix:entities:ada lovelace", 0, -1) == ["kept"]
    assert not any(store.redis.zscore(key, "gone") is not None for key in store.redis.scan_iter("nf:ix:*"))


def test_bad_query_is_422_naming_the_parameter(client):
    cursor = page(client, "limit=1&language=en")["next_cursor"]
    for query, name in (
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("language=english", "language"),
        ("colour=red", "colour"),
        ("topic=medtop:99999999", "topic"),
        ("topic=politics", "topic"),
        (f"limit=1&language=fr&cursor={cursor}", "cursor"),  # another query's cursor
        (f"limit=1&cursor={cursor}", "cursor"),
        ("cursor=bm90IGEgY3Vyc29y", "cursor"),
    ):
        response = client.get(f"/v1/articles?{query}", headers=AUTH)
        assert response.status_code == 422 and name in response.get_json()["errors"], query
        assert "body" not in response.get_json()["detail"], query  # the query string is what failed
    assert page(client, f"limit=1&language=en&cursor={cursor}")["items"]


def test_articles_fanned_out_from_the_publish_outbox_are_filed_in_the_feed_index(app_env, store):
    """The delivery engine's path: saving the enriched article hands it over through the publish outbox; fan-out
    publishes the batch with each article's index entries, and the payload becomes the article's one copy."""
    settings = Settings.from_env(app_env)
    p = bootstrap(settings, make_celery("tests", settings))
    for article_id, places in (("o1", {"Pakistan": "PK"}), ("o2", {"Lisbon": "PT"})):
        store.accept(article_id, {"title": article_id}, "h")
        store.start_enriching(article_id, 1)
        store.save_enriched(article_id, 1, finished(article_id, places=places))
    assert drain_outbox(p, 10) == 2
    client = create_app(app_env).test_client()
    assert ids(page(client, "place=PK")) == ["o1"] and ids(page(client, "place=Lisbon")) == ["o2"]
    assert store.enriched("o1") is None and p.repo.payload("o1", 1) is not None
    assert_finished_article(client.get("/v1/articles/o1", headers=AUTH).get_json())


def test_an_engine_busy_sending_leaves_the_publish_outbox_to_the_engine_fanning_out(app_env, store):
    """Fan-out and sending run on two engines when there are two; an engine alone fans out however busy it is."""
    settings = Settings.from_env(app_env)
    p = bootstrap(settings, make_celery("tests", settings))
    for article_id in ("t1", "t2", "t3"):
        store.accept(article_id, {"title": article_id}, "h")
        store.start_enriching(article_id, 1)
        store.save_enriched(article_id, 1, finished(article_id))
    assert drain_outbox(p, 1, "idle-engine", busy=False) == 1
    assert drain_outbox(p, 1, "busy-engine", busy=True) is None  # the other fanned out within the turn
    assert drain_outbox(p, 1, "idle-engine", busy=True) == 1  # its own turn: a lone engine goes on
    p.repo.redis.delete("nf:fanning")  # the fanning engine's turn lapsed (it stopped or died)
    assert drain_outbox(p, 1, "busy-engine", busy=True) == 1
    assert drain_outbox(p, 1, "busy-engine", busy=True) == 0
