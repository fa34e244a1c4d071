"""The ops console's view model and its cross-site check (pure)."""

from services.publish.console import ENTITIES_SHOWN, article_row, cross_site, delivery_row, newest_rows
from services.publish.model import Delivery
from shared.contracts import DeliveryStatus, EventType


def entity(name: str, relevance: int) -> dict:
    return {"name": name, "relevance": relevance, "mentions": 1}


PEOPLE = [entity("Minor Person", 10), entity("Anthony Blinken", 90)]
ORGANISATIONS = [entity(f"Org {i}", i) for i in range(ENTITIES_SHOWN + 3)]
ARTICLE = {
    "data": {
        "version": "2",
        "language": "en",
        "infosources": [{"name": "wire"}],
        "headlines": [{"role": "sub", "value": "A subtitle"}, {"role": "main", "value": "The headline"}],
        "people": [{"name": e["name"]} for e in PEOPLE],
        "organisations": [{"name": e["name"]} for e in ORGANISATIONS],
        "places": [],
        "subjects": [
            {"name": "society", "literal": "medtop:14000000", "uri": "u", "relevance": 40},
            {"name": "politics", "literal": "medtop:11000000", "uri": "u", "relevance": 80},
        ],
    },
    "enrichment": {"people": PEOPLE, "organisations": ORGANISATIONS, "places": []},
}


def test_article_row_shows_main_headline_and_most_relevant_entities_first():
    row = article_row("a1", 0.0, ARTICLE)
    assert row["headline"] == "The headline" and row["version"] == "2" and row["source"] == "wire"
    assert row["entities"]["people"] == ["Anthony Blinken", "Minor Person"]
    assert row["entities"]["places"] == []
    assert row["published_at"] == "1970-01-01T00:00:00.000Z"


def test_article_row_caps_entities_per_kind():
    organisations = article_row("a1", 0.0, ARTICLE)["entities"]["organisations"]
    assert len(organisations) == ENTITIES_SHOWN and organisations[0] == f"Org {ENTITIES_SHOWN + 2}"


def test_article_row_lists_topics_by_relevance_with_codes():
    assert article_row("a1", 0.0, ARTICLE)["topics"] == [
        {"code": "medtop:11000000", "name": "politics"},
        {"code": "medtop:14000000", "name": "society"},
    ]


def test_article_row_of_an_article_without_headline_or_entities():
    row = article_row("a1", 0.0, {"data": {"version": "1"}})
    assert row["headline"] == "(no headline)" and row["topics"] == []
    assert row["entities"] == {"people": [], "organisations": [], "places": []}


def delivery(status: str, created_ts: float, attempts: list[dict], **extra) -> Delivery:
    return Delivery(
        id=f"msg_{created_ts:g}",
        subscription_id="sub_1",
        article_id="a1",
        version=1,
        event_type=EventType.PUBLISHED,
        status=status,
        created_ts=created_ts,
        next_attempt_at="2030-01-01T00:00:00.000Z",
        attempts=tuple(attempts),
        **extra,
    )


def attempt(status_code: int | None, error: str | None) -> dict:
    return {"at": "2026-01-01T00:00:00.000Z", "status_code": status_code, "error": error}


def test_delivery_row_shows_the_last_attempts_error_and_the_next_attempt_while_retrying():
    row = delivery_row(
        delivery(DeliveryStatus.RETRYING, 1, [attempt(None, "timed out after 1 s"), attempt(500, "HTTP 500")])
    )
    assert (row["attempts"], row["last_status_code"], row["last_error"]) == (2, 500, "HTTP 500")
    assert row["next_attempt_at"] == "2030-01-01T00:00:00.000Z"


def test_delivery_row_of_a_final_delivery_has_no_next_attempt():
    assert delivery_row(delivery(DeliveryStatus.FAILED, 1, [attempt(500, "HTTP 500")]))["next_attempt_at"] is None


def test_delivery_row_failed_without_attempt_shows_the_reason():
    row = delivery_row(delivery(DeliveryStatus.FAILED, 1, [], error="subscription disabled"))
    assert row["attempts"] == 0 and row["last_error"] == "subscription disabled" and row["last_attempt_at"] is None


def test_newest_rows_merges_status_logs_newest_first_up_to_the_limit():
    failed = [delivery(DeliveryStatus.FAILED, ts, []) for ts in (1, 4)]
    retrying = [delivery(DeliveryStatus.RETRYING, ts, []) for ts in (2, 3)]
    assert [row["id"] for row in newest_rows(failed + retrying, limit=3)] == ["msg_4", "msg_3", "msg_2"]


def test_cross_site_refuses_pages_of_other_sites_by_fetch_metadata():
    assert cross_site("cross-site", None, "console.example") is True
    assert cross_site("same-site", "https://other.example", "console.example") is True
    assert cross_site("same-origin", "http://console.example", "console.example") is False
    assert cross_site("none", None, "console.example") is False  # typed in the address bar, a bookmark


def test_cross_site_falls_back_to_origin_for_browsers_without_fetch_metadata():
    assert cross_site(None, "http://127.0.0.1:8002", "127.0.0.1:8002") is False
    assert cross_site(None, "http://127.0.0.1:8003", "127.0.0.1:8002") is True
    assert cross_site(None, "null", "127.0.0.1:8002") is True  # a sandboxed frame or data: page


def test_cross_site_lets_non_browser_clients_through():
    assert cross_site(None, None, "127.0.0.1:8002") is False
