"""newsflow: what a shell user reads: tables, subscriptions, webhook events, stats."""

import json

import pytest

from services.cli import formatting as fmt
from services.cli.listen import verifier
from shared.contracts import ArticleState, DeliveryStatus, EventType

ARTICLE = {
    "uri": "urn:newsflow:article:abc", "version": "2", "language": "en", "infosources": [{"name": "wire"}],
    "headlines": [{"role": "main", "value": "Blinken presses the Taliban"}],
    "bodies": [{"role": "main", "value": "...", "wordcount": 312, "charcount": 2001}],
    "descriptions": [{"role": "summary", "value": "Talks with Pakistan."}],
    "people": [{"name": "Anthony Blinken"}], "organisations": [], "places": [{"name": "Pakistan"}],
    "subjects": [{"name": "politics", "literal": "medtop:11000000"}],
}  # fmt: skip
EXTRA = {"keywords": ["Taliban", "Security Council"]}
EVENT = {"type": EventType.UPDATED, "timestamp": "2026-11-26T12:00:00Z", "data": ARTICLE, "enrichment": EXTRA}


def test_webhook_event_shows_headline_entities_subjects_and_keywords():
    lines = fmt.webhook_event(EVENT, "dlv_1").splitlines()
    assert lines[0] == "article.updated  dlv_1  (signature verified)"
    assert "  Blinken presses the Taliban" in lines
    assert "  urn:newsflow:article:abc v2  language: en  source: wire  words: 312" in lines
    assert "  people: Anthony Blinken" in lines
    assert "  organisations: -" in lines
    assert "  places: Pakistan" in lines
    assert "  subjects: politics (medtop:11000000)" in lines
    assert "  keywords: Taliban, Security Council" in lines


def test_webhook_event_in_full_is_the_whole_body_as_json():
    header, body = fmt.webhook_event(EVENT, "dlv_1", full=True).split("\n", 1)
    assert header.endswith("(signature verified)") and json.loads(body) == EVENT


def test_table_aligns_columns_shows_none_as_dash_and_cuts_long_cells():
    text = fmt.table(["ID", "URL"], [["s1", None], ["s22", "https://" + "x" * 100]])
    header, first, second = text.splitlines()
    assert header == "ID   URL"
    assert first == "s1   -"
    assert len(second) == len("s22  ") + fmt.MAX_CELL and second.endswith("…")


def test_subscription_block_leaves_out_empty_fields_and_says_when_it_is_disabled_and_why():
    sub = {
        "id": "sub_1", "url": "https://example.com/hook", "description": "", "enabled": False,
        "disabled_reason": "410 Gone from the endpoint", "event_types": [EventType.PUBLISHED],
        "filters": {"topics": ["medtop:11000000"], "places": [], "entities": ["Taliban", "UN"]},
        "health": {"circuit": "closed", "paused_until": None, "last_success_at": None, "failing_since": None},
        "previous_secret_expires_at": None,
    }  # fmt: skip
    assert fmt.subscription(sub).splitlines() == [
        "id       sub_1",
        "url      https://example.com/hook",
        "enabled  no (410 Gone from the endpoint)",
        "events   article.published",
        "filters  topics: medtop:11000000; entities: Taliban, UN",
        "circuit  closed",
    ]


def test_deliveries_table_shows_the_last_attempts_error_or_status_code():
    delivery = {
        "id": "dlv_1", "status": DeliveryStatus.RETRYING, "event_type": EventType.PUBLISHED, "article_id": "a1",
        "next_attempt_at": "2026-11-26T12:05:00Z",
        "attempts": [{"at": "2026-11-26T12:00:00Z", "status_code": 503, "error": None},
                     {"at": "2026-11-26T12:00:05Z", "status_code": None, "error": "timed out after 15 s"}],
    }  # fmt: skip
    row = fmt.deliveries([delivery]).splitlines()[1]
    assert row.split() == ["dlv_1", DeliveryStatus.RETRYING, EventType.PUBLISHED, "a1", "2", "2026-11-26T12:00:05Z",
                           "timed", "out", "after", "15", "s", "2026-11-26T12:05:00Z"]  # fmt: skip


def test_stats_counts_recent_deliveries_by_status_per_subscription():
    subs = [{"id": "sub_1", "enabled": True, "health": {"circuit": "open", "last_success_at": None}}]
    recent = {
        "sub_1": [
            {"status": DeliveryStatus.SUCCEEDED},
            {"status": DeliveryStatus.SUCCEEDED},
            {"status": DeliveryStatus.FAILED},
        ]
    }
    states = {ArticleState.RECEIVED: 1, ArticleState.PUBLISHED: 12}
    lines = fmt.stats(states, "12", "2026-11-25T12:00:00+00:00", subs, recent, 50).splitlines()
    assert lines[:3] == [
        "articles: received 1, published 12",
        "published since 2026-11-25T12:00:00+00:00: 12",
        "subscriptions: 1 (1 enabled)",
    ]
    header, row = lines[-2:]
    assert header.split() == ["SUBSCRIPTION", "ENABLED", "CIRCUIT", "SUCCEEDED", "RETRYING", "PENDING", "FAILED",
                              "LAST", "SUCCESS"]  # fmt: skip
    assert row.split() == ["sub_1", "yes", "open", "2", "0", "0", "1", "-"]


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_a", "sk_live_abc", "whsec_%%%%"])
def test_listen_refuses_a_secret_that_is_not_whsec_base64(secret):
    with pytest.raises(ValueError, match="whsec_"):
        verifier(secret)


def test_stats_leave_out_the_state_line_when_ingest_exposes_no_state_counts():
    assert fmt.stats({}, "0", "2026-11-25T12:00:00+00:00", [], {}, 50).splitlines() == [
        "published since 2026-11-25T12:00:00+00:00: 0",
        "subscriptions: 0 (0 enabled)",
    ]
