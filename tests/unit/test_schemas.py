import re
from dataclasses import replace
from types import SimpleNamespace

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from marshmallow import ValidationError

from services.publish import api as publish_api
from services.publish import fanout, queries, subscriptions
from services.publish.delivery import Attempt
from services.publish.schemas import Article, Delivery, Subscription, SubscriptionIn, SubscriptionWithSecret
from services.publish.signing import rotated
from shared.config import Settings
from shared.contracts import EventType
from shared.openapi import build_spec, json_schema
from shared.schemas import ArticleIn, BatchIn
from shared.times import iso
from tests.articles import finished


def errors_of(payload: dict) -> dict:
    with pytest.raises(ValidationError) as info:
        ArticleIn().load(payload)
    return info.value.messages


def test_minimal_article_is_valid():
    assert ArticleIn().load({"title": "T", "body": "B"}) == {"title": "T", "body": "B"}


def test_unknown_field_is_named():
    assert "colour" in errors_of({"title": "T", "body": "B", "colour": "red"})


def test_exactly_one_of_body_or_html():
    assert "body" in errors_of({"title": "T"})
    assert "body" in errors_of({"title": "T", "body": "B", "html": "<p>B</p>"})


@pytest.mark.parametrize(
    "field, value",
    [
        ("title", ""),
        ("title", "   "),
        ("title", "x" * 1001),
        ("body", "x" * 500_001),
        ("url", "not a url"),
        ("url", "ftp://example.com/a"),
        ("published_at", "yesterday"),
        ("language", "english"),
        ("language", "xx"),
        ("authors", "Jane"),
        ("authors", [""]),
    ],
)
def test_bad_field_is_named(field, value):
    payload = {"title": "T", "body": "B", field: value}
    assert field in errors_of(payload)


def test_published_at_is_normalised_to_iso_with_timezone():
    loaded = ArticleIn().load({"title": "T", "body": "B", "published_at": "2024-05-01T10:00:00", "language": "en"})
    assert loaded["published_at"] == "2024-05-01T10:00:00+00:00"
    assert loaded["language"] == "en"


def test_language_codes_are_lower_case_iso_639_1_as_the_spec_lists_them():
    assert "language" in errors_of({"title": "T", "body": "B", "language": "EN"})


def test_a_batch_holds_one_to_a_hundred_articles():
    assert BatchIn().load({"articles": [{}] * 100})["articles"] == [{}] * 100
    for size in (0, 101):
        with pytest.raises(ValidationError) as info:
            BatchIn().load({"articles": [{}] * size})
        assert "articles" in info.value.messages


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from([*ArticleIn().fields, "extra"]) | st.text(), json_values))
def test_any_json_object_is_either_an_article_or_a_validation_error(payload):
    try:
        ArticleIn().load(payload)
    except ValidationError as exc:
        assert isinstance(exc.messages, dict) and exc.messages


texts = st.text(min_size=1, max_size=50).filter(str.strip)


@given(title=texts, body=texts, authors=st.lists(texts, max_size=3), language=st.sampled_from(["en", "fr", "ar"]))
def test_every_well_formed_article_is_accepted_as_sent(title, body, authors, language):
    loaded = ArticleIn().load({"title": title, "body": body, "authors": authors, "language": language})
    assert (loaded["title"], loaded["body"], loaded["authors"]) == (title, body, authors)


# The publish API's OpenAPI document: every route in it, and what the views return matches it.


def test_every_publish_route_is_in_the_openapi_document():
    app = Flask(__name__)
    app.register_blueprint(publish_api.bp)
    routes = {
        (method.lower(), re.sub(r"<(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("publish.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(op.method, op.path) for op in publish_api.OPERATIONS if op.path.startswith("/v1/")}
    assert routes == documented


class SubscriptionsInMemory:
    def save_subscription(self, sub: dict, cap: int | None = None) -> bool:
        self.saved = sub
        return True


def new_subscription(payload: dict) -> dict:
    publisher = SimpleNamespace(
        settings=Settings.from_env({"WEBHOOK_ALLOW_PRIVATE": "true"}), repo=SubscriptionsInMemory()
    )
    return subscriptions.create_subscription(publisher, SubscriptionIn().load(payload))


def test_a_subscription_as_shown_matches_its_schema_and_never_holds_a_secret():
    sub = rotated(new_subscription({"url": "http://127.0.0.1:9/h", "filters": {"places": ["PK"]}}), "whsec_x", 0, 60)
    view = subscriptions.public_view(sub)
    assert Subscription().validate(view) == {}
    assert SubscriptionWithSecret().validate({**view, "secret": sub["secret"]}) == {}
    assert "secret" in Subscription().validate({**view, "secret": sub["secret"]})  # closed: a leak fails the spec


@given(st.sampled_from(["http://127.0.0.1:9/h", "https://hooks.example.com/x?y=1"]), st.text(max_size=500))
def test_every_accepted_subscription_is_shown_as_its_schema_says(url, description):
    view = subscriptions.public_view(new_subscription({"url": url, "description": description}))
    assert Subscription().validate(view) == {}


def test_a_delivery_with_its_attempts_matches_its_schema():
    delivery = fanout.new_delivery("sub_1", "art_1", 2, EventType.UPDATED, now=1_700_000_000.0, replay_id="rpl_1")
    attempt = Attempt(at=iso(1_700_000_001.0), status_code=None, duration_ms=3000, error="timeout", response_excerpt="")
    delivery = replace(delivery, attempts=(attempt.as_dict(),))
    assert Delivery().validate(queries.delivery_view(delivery)) == {}


def test_a_finished_article_matches_the_openapi_article_schema_whose_enrichment_is_the_published_json_schema():
    spec = build_spec("t", "d", publish_api.OPERATIONS, {"enrichment": json_schema("enrichment")})
    # the OpenAPI document read as JSON Schema: the Article response with every component it refers to
    validator = Draft202012Validator({"$ref": "#/components/schemas/Article", "components": spec["components"]})
    article = finished("a1", 2, people=("Anthony Blinken",), places={"Pakistan": "PK"}, topics=("11000000",))
    assert list(validator.iter_errors(article)) == []
    assert Article().validate(article) == {}
    leaked = {**article, "data": {**article["data"], "keywords": ["x"]}}
    assert not validator.is_valid(leaked) and "keywords" in Article().validate(leaked)["data"]
    assert not validator.is_valid({**article, "enrichment": {**article["enrichment"], "keywords": "x"}})
