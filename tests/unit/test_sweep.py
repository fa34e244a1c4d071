"""The sweep on a fake store: stuck articles go back where they were lost, once per interval."""

import time

import pytest

from services.scheduler.sweeper import Sweeper, sweep
from shared.contracts import ArticleState, Task
from tests.fakes import FakeArticleStore


@pytest.fixture
def store():
    return FakeArticleStore(stuck_after_s=-1)  # every deadline is already past


def sweeper(store, sent, retention_s=3600.0) -> Sweeper:
    return Sweeper(store, lambda name, args: sent.append((name, args)), interval_s=15, retention_s=retention_s)


def test_an_article_stuck_before_enrichment_is_sent_to_enrich_again(store):
    store.accept("lost", {"title": "T"}, "h1")  # its message never reached a worker
    store.accept("crashed", {"title": "T"}, "h1")
    store.start_enriching("crashed", 1)  # its worker died mid-task
    sent = []

    assert sweep(sweeper(store, sent)) == 2
    assert sorted(sent) == [(Task.ENRICH_ARTICLE, ["crashed", 1]), (Task.ENRICH_ARTICLE, ["lost", 1])]
    assert store.take_publish_outbox(10) == []


def test_an_enriched_article_whose_fan_out_was_lost_goes_back_into_the_publish_outbox(store):
    store.accept("a1", {"title": "T"}, "h1")
    store.save_enriched("a1", 1, {"data": {}})
    store.take_publish_outbox(10)  # taken by an engine that died before fanning it out
    sent = []

    assert sweep(sweeper(store, sent)) == 1
    assert sent == [] and store.take_publish_outbox(10) == [("a1", 1, "")]


def test_final_articles_are_left_alone_and_published_ones_past_retention_deleted(store):
    store.accept("old", {"title": "T"}, "h1")
    store.save_enriched("old", 1, {"data": {}})
    store.mark_published("old", 1)
    store.feed["old"] = time.time() - 7200
    store.accept("bad", {"title": "T"}, "h1")
    store.fail("bad", 1, "no text")
    sent = []

    assert sweep(sweeper(store, sent, retention_s=3600)) == 0
    assert sent == [] and store.status("old") is None
    assert store.status("bad")["status"] == ArticleState.FAILED


def test_a_second_scheduler_within_the_interval_sweeps_nothing(store):
    store.accept("lost", {"title": "T"}, "h1")
    store.take_sweep_turn(15)  # the other scheduler's turn
    sent = []

    assert sweep(sweeper(store, sent)) == 0 and sent == []
