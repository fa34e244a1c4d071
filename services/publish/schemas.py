"""Publish requests (marshmallow); unknown fields are rejected, every error names its field."""

from __future__ import annotations

from datetime import UTC

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.publish.repository import STATUSES

EVENT_TYPES = ("article.published", "article.updated")
MAX_FILTER_VALUES = 100


def _list(item: fields.Field, **kwargs) -> fields.List:
    return fields.List(item, validate=validate.Length(max=MAX_FILTER_VALUES), **kwargs)


def _names(**kwargs) -> fields.List:
    return _list(fields.String(validate=validate.Length(min=1, max=200)), **kwargs)


def _url(**kwargs) -> fields.Url:
    return fields.Url(schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2048), **kwargs)


def _event_types(**kwargs) -> fields.List:
    return fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)), validate=validate.Length(min=1), **kwargs)


class Filters(Schema):
    """topics: IPTC Media Topic codes (a top-level code also matches its children); entities: people or
    organisations by name; places: names or ISO 3166 alpha-2 codes; sources; languages: ISO 639-1."""

    class Meta:
        unknown = RAISE

    topics = _list(
        fields.String(
            validate=validate.Regexp(r"^(medtop:)?\d{8}$", error="Must be an IPTC code like 'medtop:11000000'.")
        ),
        load_default=list,
    )
    entities = _names(load_default=list)
    places = _names(load_default=list)
    sources = _names(load_default=list)
    languages = _list(
        fields.String(validate=validate.Regexp(r"^[a-z]{2}$", error="Must be an ISO 639-1 code like 'en'.")),
        load_default=list,
    )


class SubscriptionIn(Schema):
    class Meta:
        unknown = RAISE

    url = _url(required=True)
    description = fields.String(validate=validate.Length(max=500), load_default="")
    event_types = _event_types(load_default=lambda: list(EVENT_TYPES))
    filters = fields.Nested(Filters, load_default=lambda: Filters().load({}))


class SubscriptionPatch(Schema):
    class Meta:
        unknown = RAISE

    url = _url()
    description = fields.String(validate=validate.Length(max=500))
    event_types = _event_types()
    filters = fields.Nested(Filters)
    enabled = fields.Boolean(truthy={True}, falsy={False})


class ReplayIn(Schema):
    """A window of publication times; a time without a zone is UTC."""

    class Meta:
        unknown = RAISE

    since = fields.AwareDateTime(required=True, default_timezone=UTC)
    until = fields.AwareDateTime(load_default=None, default_timezone=UTC)

    @validates_schema
    def _ordered(self, data: dict, **kwargs) -> None:
        if data.get("until") is not None and data["until"] <= data["since"]:
            raise ValidationError("Must be later than 'since'.", "until")


class DeliveriesQuery(Schema):
    class Meta:
        unknown = RAISE

    status = fields.String(validate=validate.OneOf(STATUSES), load_default=None)
    limit = fields.Integer(validate=validate.Range(min=1, max=200), load_default=50)
    cursor = fields.String(validate=validate.Length(min=1, max=500), load_default=None)


class FeedQuery(Schema):
    """GET /v1/articles: one value per filter; all given must match."""

    class Meta:
        unknown = RAISE

    topic = fields.String(
        validate=validate.Regexp(r"^(medtop:)?\d{8}$", error="Must be an IPTC code like 'medtop:11000000'.")
    )
    entity = fields.String(validate=validate.Length(min=1, max=200))
    place = fields.String(validate=validate.Length(min=1, max=200))
    source = fields.String(validate=validate.Length(min=1, max=200))
    language = fields.String(validate=validate.Regexp(r"^[a-z]{2}$", error="Must be an ISO 639-1 code."))
    since = fields.AwareDateTime(format="iso", default_timezone=UTC, load_default=None)
    limit = fields.Integer(validate=validate.Range(min=1, max=100), load_default=20)
    cursor = fields.Float(load_default=None, metadata={"description": "next_cursor of the previous page."})
