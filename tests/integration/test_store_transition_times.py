"""The store records when the current version entered each state (what the latency benchmark splits on)."""

from shared.contracts import ArticleState
from shared.store import ArticleStore, connect


def test_transition_times_follow_the_article_through_its_states(redis_url):
    store = ArticleStore(connect(redis_url))
    store.accept("a", {"title": "T"}, "h1")
    store.start_enriching("a", 1)
    store.save_enriched("a", 1, {"version": 1})
    store.mark_published("a", 1)
    times = store.transition_times("a")
    assert list(times) == [ArticleState.RECEIVED, ArticleState.ENRICHING, ArticleState.ENRICHED, ArticleState.PUBLISHED]
    assert (
        times[ArticleState.RECEIVED]
        <= times[ArticleState.ENRICHING]
        <= times[ArticleState.ENRICHED]
        <= times[ArticleState.PUBLISHED]
    )


def test_a_new_version_starts_with_only_its_received_time(redis_url):
    store = ArticleStore(connect(redis_url))
    store.accept("a", {"title": "T"}, "h1")
    store.start_enriching("a", 1)
    store.save_enriched("a", 1, {"version": 1})
    store.accept("a", {"title": "T2"}, "h2")
    assert list(store.transition_times("a")) == [ArticleState.RECEIVED]


def test_a_failed_article_records_when_it_failed(redis_url):
    store = ArticleStore(connect(redis_url))
    store.accept("a", {"title": "T"}, "h1")
    store.start_enriching("a", 1)
    store.fail("a", 1, "no text left")
    assert set(store.transition_times("a")) == {ArticleState.RECEIVED, ArticleState.ENRICHING, ArticleState.FAILED}
