"""The enrich use case on a fake store and a fake pipeline: what it claims, saves, fails and hands on."""

import pytest

from services.enrich.cleaning import NothingToEnrich
from services.enrich.usecases import EnrichArticle, Enricher, Outcome, enrich_article
from shared.contracts import ArticleState
from shared.store import MAX_ENRICH_ATTEMPTS
from tests.fakes import FakeArticleStore


@pytest.fixture
def store():
    return FakeArticleStore()


def finish(raw: dict) -> dict:
    return {"data": {"headlines": [{"value": raw["title"]}], "version": str(raw["version"])}, "enrichment": {}}


def test_an_accepted_article_is_enriched_saved_and_handed_to_publish_with_its_request_id(store):
    store.accept("a1", {"title": "Storm", "body": "A storm hit Porto."}, "h1")
    seen = []
    enricher = Enricher(store, lambda raw: seen.append(raw) or finish(raw))

    assert enrich_article(enricher, EnrichArticle("a1", 1, "req-7")) is Outcome.ENRICHED
    assert seen[0]["id"] == "a1" and seen[0]["version"] == 1 and seen[0]["title"] == "Storm"
    assert seen[0]["received_at"] == store.status("a1")["version_received_at"]
    assert store.status("a1")["status"] == ArticleState.ENRICHED
    assert store.enriched("a1") == finish(seen[0])
    assert store.take_publish_outbox(10) == [("a1", 1, "req-7")]


def test_a_redelivered_message_for_an_enriched_version_changes_nothing(store):
    store.accept("a1", {"title": "Storm", "body": "B"}, "h1")
    enricher = Enricher(store, finish)
    enrich_article(enricher, EnrichArticle("a1", 1))
    calls = []
    again = Enricher(store, lambda raw: calls.append(raw) or finish(raw))

    assert enrich_article(again, EnrichArticle("a1", 1)) is Outcome.SKIPPED
    assert calls == [] and len(store.take_publish_outbox(10)) == 1  # handed on once


def test_a_stale_version_is_skipped_without_running_the_pipeline(store):
    store.accept("a1", {"title": "Storm", "body": "B"}, "h1")
    store.accept("a1", {"title": "Storm", "body": "B, corrected"}, "h2")

    assert enrich_article(Enricher(store, pytest.fail), EnrichArticle("a1", 1)) is Outcome.SKIPPED
    assert store.status("a1")["status"] == ArticleState.RECEIVED


def test_nothing_to_enrich_fails_the_article_for_good_with_the_reason(store):
    store.accept("a1", {"title": "Empty", "html": "<script>x()</script>"}, "h1")

    def nothing(raw: dict) -> dict:
        raise NothingToEnrich("no article text left after cleaning")

    assert enrich_article(Enricher(store, nothing), EnrichArticle("a1", 1)) is Outcome.FAILED
    status = store.status("a1")
    assert (status["status"], status["error"]) == (ArticleState.FAILED, "no article text left after cleaning")
    assert store.take_publish_outbox(10) == []


def test_a_version_superseded_while_it_was_enriched_is_not_handed_on(store):
    store.accept("a1", {"title": "Storm", "body": "B"}, "h1")

    def meanwhile_a_correction(raw: dict) -> dict:
        store.accept("a1", {"title": "Storm", "body": "B, corrected"}, "h2")
        return finish(raw)

    assert enrich_article(Enricher(store, meanwhile_a_correction), EnrichArticle("a1", 1)) is Outcome.SUPERSEDED
    assert store.take_publish_outbox(10) == [] and store.status("a1")["version"] == 2


def test_an_article_that_kills_its_worker_every_time_ends_failed(store):
    store.accept("poison", {"title": "T", "body": "B"}, "h1")
    for _ in range(MAX_ENRICH_ATTEMPTS):
        assert store.start_enriching("poison", 1)  # each attempt's worker died mid-task

    assert enrich_article(Enricher(store, pytest.fail), EnrichArticle("poison", 1)) is Outcome.SKIPPED
    assert store.status("poison")["status"] == ArticleState.FAILED
