"""State transitions on real Redis: versions, idempotency and deadlines."""

import time

import pytest

from shared.contracts import ArticleState
from shared.store import ArticleStore, connect


@pytest.fixture
def store(redis_url):
    return ArticleStore(connect(redis_url), stuck_after_s=0.2)


def test_accept_is_atomic_and_versioned(store):
    assert store.accept("a", {"title": "T"}, "h1", request_id="req-1").version == 1
    assert store.take_outbox(10, 0.1) == [("a", 1, "req-1")]
    assert store.accept("a", {"title": "T"}, "h1").duplicate
    second = store.accept("a", {"title": "T2"}, "h2")
    assert (second.version, second.duplicate) == (2, False)
    assert store.raw("a") == {"title": "T2"}
    assert store.status("a")["status"] == ArticleState.RECEIVED


def test_transitions_for_a_stale_version_are_refused(store):
    store.accept("a", {}, "h1")
    store.accept("a", {}, "h2")
    assert not store.start_enriching("a", 1)
    assert not store.save_enriched("a", 1, {"version": 1})
    assert store.start_enriching("a", 2)
    assert store.save_enriched("a", 2, {"version": 2})
    assert store.enriched("a") == {"version": 2}


def test_an_enriched_version_is_handed_to_publish_through_its_outbox_with_what_fan_out_needs(store):
    store.accept("a", {}, "h1")
    store.start_enriching("a", 1)
    assert not store.save_enriched("a", 2, {"version": 2})  # refused: nothing handed over
    assert store.save_enriched("a", 1, {"version": 1}, request_id="req-1")  # it rides on to the deliveries
    assert store.take_publish_outbox(10) == [("a", 1, "req-1")] and store.take_publish_outbox(10) == []
    [waiting] = store.enriched_versions([("a", 1)])
    assert (waiting.article, waiting.update) == ({"version": 1}, False)
    store.mark_published_many([("a", 1, [("places", "pk")])])
    assert store.enriched_versions([("a", 1)]) == [None]  # published: fan-out skips it
    assert store.redis.zscore("nf:ix:places:pk", "a") is not None  # filed in the feed index
    store.accept("a", {}, "h2")
    store.start_enriching("a", 2)
    store.save_enriched("a", 2, {"version": 2})
    assert store.enriched_versions([("a", 1), ("a", 2)])[1].update is True


def test_enrich_rerun_after_success_is_a_no_op(store):
    store.accept("a", {}, "h1")
    assert store.start_enriching("a", 1) and store.save_enriched("a", 1, {"v": 1})
    assert not store.start_enriching("a", 1)
    assert store.mark_published("a", 1) and not store.mark_published("a", 1)


def test_failure_is_recorded_with_its_reason(store):
    store.accept("a", {}, "h1")
    assert store.fail("a", 1, "no article text")
    status = store.status("a")
    assert (status["status"], status["error"]) == (ArticleState.FAILED, "no article text")


def test_overdue_returns_each_stuck_article_once_per_deadline(store):
    store.accept("stuck", {}, "h1")
    store.accept("done", {}, "h1")
    store.start_enriching("done", 1)
    store.save_enriched("done", 1, {})
    store.mark_published("done", 1)
    assert store.overdue() == []
    time.sleep(0.3)
    [stuck] = store.overdue()
    assert (stuck.article_id, stuck.version, stuck.state) == ("stuck", 1, ArticleState.RECEIVED)
    assert store.overdue() == []  # pushed a deadline further


def test_an_article_that_keeps_killing_its_worker_ends_failed(store):
    store.accept("poison", {}, "h1")
    assert all(store.start_enriching("poison", 1) for _ in range(5))  # five claims, none finished
    assert not store.start_enriching("poison", 1)
    status = store.status("poison")
    assert status["status"] == ArticleState.FAILED and "gave up after 5 attempts" in status["error"]
    assert store.overdue() == []  # and the sweeper leaves it alone


def test_a_new_version_gets_fresh_attempts(store):
    store.accept("a", {}, "h1")
    for _ in range(5):
        store.start_enriching("a", 1)
    store.accept("a", {}, "h2")
    assert store.start_enriching("a", 2)


def test_one_sweep_turn_per_interval(store):
    assert store.take_sweep_turn(0.3) and not store.take_sweep_turn(0.3)
    time.sleep(0.35)
    assert store.take_sweep_turn(0.3)


def test_state_counts_follow_every_transition(store):
    store.accept("a", {"title": "t"}, "h1")
    store.accept("b", {"title": "t"}, "h2")
    store.accept("a", {"title": "t"}, "h1")  # a duplicate changes nothing
    assert store.start_enriching("a", 1)
    assert store.save_enriched("a", 1, {"uri": "x"})
    assert store.mark_published("a", 1)
    store.accept("a", {"title": "t2"}, "h3")  # a new version is received again
    assert store.fail("b", 1, "no text")
    assert store.state_counts() == {
        ArticleState.RECEIVED: 1,
        ArticleState.ENRICHING: 0,
        ArticleState.ENRICHED: 0,
        ArticleState.PUBLISHED: 0,
        ArticleState.FAILED: 1,
    }


def publish(store, article_id):
    store.accept(article_id, {"title": article_id}, f"h-{article_id}")
    assert store.start_enriching(article_id, 1) and store.save_enriched(article_id, 1, {"uri": article_id})
    assert store.mark_published(article_id, 1)


def test_retention_deletes_only_articles_published_before_the_cutoff(store):
    publish(store, "old")
    publish(store, "updating")
    cutoff = time.time()
    publish(store, "fresh")
    store.accept("updating", {"title": "updating, corrected"}, "h-updating-2")  # version 2 on its way

    assert store.expire_published(cutoff) == 1
    assert store.status("old") is None and store.raw("old") is None and store.enriched("old") is None
    assert store.status("updating")["version"] == 2 and store.raw("updating") == {"title": "updating, corrected"}
    assert store.status("fresh")["status"] == ArticleState.PUBLISHED
    assert store.state_counts() == {
        ArticleState.RECEIVED: 1,
        ArticleState.ENRICHING: 0,
        ArticleState.ENRICHED: 0,
        ArticleState.PUBLISHED: 1,
        ArticleState.FAILED: 0,
    }
    assert store.expire_published(cutoff) == 0


def test_a_large_value_is_stored_compressed_and_read_back_whole(store):
    body = " ".join(f"Sentence {n} of a long article about talks in Islamabad." for n in range(100))
    store.accept("big", {"title": "T", "body": body}, "h1")
    assert store.redis.strlen("nf:article:big:raw") < len(body) / 3
    assert store.raw("big") == {"title": "T", "body": body}
    assert store.start_enriching("big", 1) and store.save_enriched("big", 1, {"data": {"body": body}})
    assert store.redis.strlen("nf:article:big:enriched") < len(body) / 3
    assert store.enriched("big") == store.enriched_many(["big"])[0] == {"data": {"body": body}}


def test_a_value_stored_before_compression_still_reads(store):
    store.redis.set("nf:article:old:enriched", '{"data": {"uri": "urn:newsflow:article:old"}}')
    assert store.enriched("old") == {"data": {"uri": "urn:newsflow:article:old"}}


@pytest.mark.parametrize("keep_raw", [False, True])
def test_the_raw_article_goes_once_enriched_unless_kept_and_the_enriched_copy_once_published(redis_url, keep_raw):
    store = ArticleStore(connect(redis_url), keep_raw=keep_raw)
    store.accept("a", {"title": "T", "body": "B"}, "h1")
    assert store.start_enriching("a", 1) and store.save_enriched("a", 1, {"data": {}})
    assert (store.raw("a") == {"title": "T", "body": "B"}) is keep_raw
    assert store.enriched("a") == {"data": {}}
    assert store.mark_published("a", 1)
    assert store.enriched("a") is None  # the webhook payload holds the published article
