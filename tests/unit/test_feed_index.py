"""The feed index (pure): what an article is filed under, what a query reads, cursors bound to their query."""

import pytest

from services.publish.feed import article_index, decode_feed_cursor, encode_feed_cursor, query_facets, query_token
from tests.articles import finished


def test_an_article_is_filed_under_its_topics_names_places_countries_source_and_language():
    article = finished(
        "a1",
        language="en",
        source="Wire",
        people=("Anthony Blinken",),
        organisations=("Taliban",),
        places={"Pakistan": "PK"},
        topics=("medtop:11000000", "medtop:20000574"),  # politics > elections, as enrich emits them
    )
    assert article_index(article) == [
        ("entities", "anthony blinken"),
        ("entities", "taliban"),
        ("languages", "en"),
        ("places", "pakistan"),
        ("places", "pk"),
        ("sources", "wire"),
        ("topics", "11000000"),
        ("topics", "20000574"),
    ]


def test_a_query_reads_one_set_per_filter_folded_as_the_index():
    query = {"topic": "medtop:11000000", "entity": " Anthony BLINKEN ", "limit": 20, "since": None, "cursor": None}
    assert query_facets(query) == [("entities", "anthony blinken"), ("topics", "11000000")]
    assert query_facets({"limit": 20, "since": None, "cursor": None}) == []


def test_a_cursor_goes_only_with_the_query_that_handed_it_out():
    token = query_token([("topics", "11000000")], None)
    cursor = encode_feed_cursor(("a1", 1_700_000_000.25), token)
    assert decode_feed_cursor(cursor, token) == (1_700_000_000.25, "a1")
    for other in (query_token([("topics", "04000000")], None), query_token([("topics", "11000000")], 1.0)):
        with pytest.raises(ValueError):
            decode_feed_cursor(cursor, other)
    with pytest.raises(ValueError):
        decode_feed_cursor("bm90IGEgY3Vyc29y", token)
