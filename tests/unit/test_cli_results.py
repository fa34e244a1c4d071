"""newsflow: API answers made readable, batching, the submit summary, time windows."""

from datetime import UTC, datetime

import pytest

from services.cli.articles import Item
from services.cli.params import since_iso
from services.cli.results import Summary, article_states, batches, field_errors, problem_message, retry_after_s
from shared.contracts import ArticleState


def test_problem_message_shows_title_status_detail_and_one_line_per_field():
    body = {
        "type": "about:blank", "title": "Unprocessable Content", "status": 422,
        "detail": "The request body failed validation.",
        "errors": {"url": ["Not a valid URL."], "filters": {"topics": {"0": ["Must be an IPTC code."]}}},
    }  # fmt: skip
    assert problem_message(422, body).splitlines() == [
        "Unprocessable Content (422): The request body failed validation.",
        "  url: Not a valid URL.",
        "  filters.topics.0: Must be an IPTC code.",
    ]


def test_problem_message_of_a_body_that_is_not_problem_json_keeps_the_status_and_a_bit_of_text():
    assert problem_message(502, "<html>Bad gateway</html>") == "HTTP 502: <html>Bad gateway</html>"
    assert problem_message(500, "") == "HTTP 500"


def test_field_errors_join_several_messages_of_one_field():
    assert field_errors({"body": ["Too long.", "Must not be blank."]}) == ["body: Too long. Must not be blank."]


def test_retry_after_reads_seconds_or_an_http_date_and_defaults_when_absent_or_garbled():
    now = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    assert retry_after_s("7", now) == 7
    assert retry_after_s("Thu, 26 Nov 2026 12:00:30 GMT", now) == 30
    assert retry_after_s(None, now) == 1.0
    assert retry_after_s("soon", now) == 1.0


def _items(*sizes: int) -> list[Item]:
    return [Item(f"f{i}", {"title": "t", "body": "x" * size}) for i, size in enumerate(sizes)]


def test_batches_hold_at_most_the_item_limit():
    chunks = list(batches(_items(*[1] * 250), max_items=100))
    assert [len(chunk) for chunk in chunks] == [100, 100, 50]


def test_batches_split_by_size_and_a_too_large_article_goes_alone():
    chunks = list(batches(_items(400, 400, 2000, 10), max_items=100, max_bytes=1000))
    assert [[item.origin for item in chunk] for chunk in chunks] == [["f0", "f1"], ["f2"], ["f3"]]


def test_summary_counts_accepted_duplicate_and_rejected_with_the_field_errors():
    summary = Summary()
    summary.record("a.txt", {"status": 202, "id": "a1", "version": 1})
    summary.record("b.txt", {"status": 200, "id": "b1", "version": 1, "duplicate": True})
    summary.record("feed.jsonl:2", {"status": 422, "errors": {"title": ["Missing data for required field."]}})
    summary.reject("bad.json", "invalid JSON: Expecting value: line 1 column 1 (char 0)")
    assert summary.lines() == [
        "rejected   bad.json: invalid JSON: Expecting value: line 1 column 1 (char 0)",
        "rejected   feed.jsonl:2: title: Missing data for required field.",
        "1 accepted, 1 duplicate, 2 rejected",
    ]
    assert summary.exit_code == 1


def test_verbose_summary_lists_ids_and_a_clean_run_exits_zero():
    summary = Summary()
    summary.record("a.txt", {"status": 202, "id": "a1", "version": 1})
    assert summary.lines(verbose=True) == ["accepted   a.txt  a1", "1 accepted, 0 duplicate, 0 rejected"]
    assert summary.exit_code == 0


def test_rejected_lines_are_in_natural_order_of_their_origin():
    summary = Summary()
    for origin in ("feed.jsonl:10", "feed.jsonl:9", "a.json"):
        summary.reject(origin, "x")
    assert [line.split(":", 1)[0] for line in summary.lines()[:3]] == [
        "rejected   a.json", "rejected   feed.jsonl", "rejected   feed.jsonl",
    ]  # fmt: skip
    assert summary.lines()[1].startswith("rejected   feed.jsonl:9:")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2h", "2026-11-26T10:00:00+00:00"),
        ("90m", "2026-11-26T10:30:00+00:00"),
        ("7d", "2026-11-19T12:00:00+00:00"),
        ("2026-11-01T08:00:00", "2026-11-01T08:00:00+00:00"),
        ("2026-11-01T09:00:00+01:00", "2026-11-01T08:00:00+00:00"),
    ],
)
def test_since_takes_a_duration_back_from_now_or_an_iso_time_without_zone_as_utc(value, expected):
    assert since_iso(value, datetime(2026, 11, 26, 12, 0, 0, 123, tzinfo=UTC)) == expected


def test_since_refuses_anything_else():
    with pytest.raises(ValueError):
        since_iso("yesterday", datetime.now(UTC))


def test_article_states_are_read_from_the_articles_gauge_of_a_prometheus_exposition():
    text = """# HELP newsflow_articles Articles in each processing state.
# TYPE newsflow_articles gauge
newsflow_articles{state="received"} 2.0
newsflow_articles{state="published"} 40.0
# TYPE newsflow_queue_depth gauge
newsflow_queue_depth{queue="enrich"} 7.0
"""
    assert article_states(text) == {ArticleState.RECEIVED: 2, ArticleState.PUBLISHED: 40}


def test_article_states_are_empty_when_the_exposition_lacks_them_or_is_not_prometheus_text():
    assert article_states('newsflow_queue_depth{queue="enrich"} 7.0\n') == {}
    assert article_states("<html>not metrics</html>") == {}
