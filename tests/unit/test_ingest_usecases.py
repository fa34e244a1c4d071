"""Accepting articles on a fake store: ids, versions, duplicates and the outbox entry that carries the
request id on to enrich."""

from services.ingest.usecases import Receipt, accept_article, accept_batch
from shared.contracts import ArticleState
from tests.fakes import FakeArticleStore

STORY = {"title": "Harbour reopens", "body": "The harbour in Porto reopened on Tuesday.", "external_id": "w-1"}


def test_an_article_is_stored_received_and_queued_for_enrich_with_the_request_id():
    store = FakeArticleStore()
    receipt = accept_article(store, STORY, "wire", "req-1")
    assert (receipt.version, receipt.duplicate) == (1, False)
    assert store.status(receipt.article_id)["status"] == ArticleState.RECEIVED
    assert store.raw(receipt.article_id) == {**STORY, "source": "wire"}  # the key's name is the default source
    assert store.outbox == [(receipt.article_id, 1, "req-1")]


def test_the_same_content_again_is_a_duplicate_and_a_correction_a_new_version_of_the_same_id():
    store = FakeArticleStore()
    first = accept_article(store, STORY, "wire", "req-1")
    again = accept_article(store, STORY, "wire", "req-2")
    corrected = accept_article(store, {**STORY, "body": "The harbour in Porto reopened on Wednesday."}, "wire", "r")
    assert again == Receipt(first.article_id, 1, duplicate=True)
    assert corrected == Receipt(first.article_id, 2, duplicate=False)
    assert [version for _, version, _ in store.outbox] == [1, 2]


def test_one_bad_item_of_a_batch_gets_its_errors_and_the_others_are_accepted():
    store = FakeArticleStore()
    outcomes = accept_batch(store, [STORY, {"title": "No text"}, {**STORY, "external_id": "w-2"}], "wire", "req-1")
    assert isinstance(outcomes[0], Receipt) and isinstance(outcomes[2], Receipt)
    assert "body" in outcomes[1]
    assert len(store.articles) == 2 and len(store.outbox) == 2
