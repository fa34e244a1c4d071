"""Subscription, replay and delivery-log requests: what is accepted, and which field an error names."""

from datetime import UTC, datetime

import pytest
from marshmallow import ValidationError

from services.publish.fanout import delivery_id
from services.publish.repository import decode_cursor, encode_cursor
from services.publish.schemas import DeliveriesQuery, ReplayIn, SubscriptionIn, SubscriptionPatch
from shared.contracts import EventType

URL = "https://hooks.example.com/x"


def errors(schema, data) -> dict:
    with pytest.raises(ValidationError) as raised:
        schema.load(data)
    return raised.value.messages


def test_defaults_are_every_event_and_no_filter():
    sub = SubscriptionIn().load({"url": URL})
    assert sub["event_types"] == [EventType.PUBLISHED, EventType.UPDATED]
    assert sub["filters"] == {"topics": [], "entities": [], "places": [], "sources": [], "languages": []}


def test_all_filters_are_accepted():
    filters = {
        "topics": ["medtop:11000000", "20000574"],
        "entities": ["Anthony Blinken", "Taliban"],
        "places": ["Pakistan", "PK"],
        "sources": ["wire"],
        "languages": ["en", "fr"],
    }
    assert SubscriptionIn().load({"url": URL, "filters": filters})["filters"] == filters


@pytest.mark.parametrize(
    "filters, field",
    [
        ({"topics": ["politics"]}, "topics"),
        ({"topics": ["medtop:1100"]}, "topics"),
        ({"topics": "medtop:11000000"}, "topics"),
        ({"entities": [""]}, "entities"),
        ({"entities": ["x" * 201]}, "entities"),
        ({"places": [3]}, "places"),
        ({"sources": [None]}, "sources"),
        ({"languages": ["english"]}, "languages"),
        ({"languages": ["EN"]}, "languages"),
        ({"places": ["p"] * 101}, "places"),
        ({"colour": ["red"]}, "colour"),
    ],
)
def test_invalid_filters_name_the_filter(filters, field):
    assert field in errors(SubscriptionIn(), {"url": URL, "filters": filters})["filters"]


@pytest.mark.parametrize("event_types", [["article.deleted"], [], EventType.PUBLISHED])
def test_event_types_must_be_known_and_not_empty(event_types):
    assert "event_types" in errors(SubscriptionIn(), {"url": URL, "event_types": event_types})


def test_patch_takes_enabled_but_only_as_a_boolean():
    assert SubscriptionPatch().load({"enabled": True}) == {"enabled": True}
    assert "enabled" in errors(SubscriptionPatch(), {"enabled": "yes"})
    assert "secret" in errors(SubscriptionPatch(), {"secret": "mine"})


def test_replay_window_takes_iso_times_naive_ones_as_utc():
    window = ReplayIn().load({"since": "2026-01-02T03:04:05"})
    assert window["since"] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) and window["until"] is None
    window = ReplayIn().load({"since": "2026-01-02T03:04:05+01:00", "until": "2026-01-03T00:00:00Z"})
    assert window["since"].timestamp() == datetime(2026, 1, 2, 2, 4, 5, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-02T00:00:00Z"}, "until"),
        ({"since": "2026-01-02T00:00:00Z", "limit": 5}, "limit"),
    ],
)
def test_invalid_replay_window_names_the_field(body, field):
    assert field in errors(ReplayIn(), body)


@pytest.mark.parametrize(
    "query, field",
    [({"status": "done"}, "status"), ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"limit": "x"}, "limit")],
)
def test_invalid_delivery_log_query_names_the_parameter(query, field):
    assert field in errors(DeliveriesQuery(), query)


def test_delivery_log_query_defaults():
    assert DeliveriesQuery().load({}) == {"status": None, "limit": 50, "cursor": None}


def test_cursors_round_trip_and_foreign_ones_are_refused():
    score = 1_700_000_000.123456789
    assert decode_cursor(encode_cursor(score, "msg_abc")) == (score, "msg_abc")
    for bad in ("!!!", "bm90IGEgY3Vyc29y", encode_cursor(1.0, "x")[:-3] + "%%%", encode_cursor(float("nan"), "x")):
        with pytest.raises(ValueError):
            decode_cursor(bad)


def test_delivery_ids_are_stable_and_replays_get_new_ones():
    first = delivery_id("sub_1", "art", 1, EventType.PUBLISHED)
    assert first == delivery_id("sub_1", "art", 1, EventType.PUBLISHED) and first.startswith("msg_")
    assert first != delivery_id("sub_1", "art", 2, EventType.PUBLISHED)
    replayed = delivery_id("sub_1", "art", 1, EventType.PUBLISHED, "rpl_1")
    assert replayed not in (first, delivery_id("sub_1", "art", 1, EventType.PUBLISHED, "rpl_2"))
