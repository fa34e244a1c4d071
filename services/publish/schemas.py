"""Subscription requests (marshmallow); unknown fields are rejected."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

EVENT_TYPES = ("article.published", "article.updated")


def _names(**kwargs) -> fields.List:
    return fields.List(fields.String(validate=validate.Length(min=1, max=200)), **kwargs)


def _url(**kwargs) -> fields.Url:
    return fields.Url(schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2048), **kwargs)


def _event_types(**kwargs) -> fields.List:
    return fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)), validate=validate.Length(min=1), **kwargs)


class Filters(Schema):
    class Meta:
        unknown = RAISE

    topics = fields.List(
        fields.String(
            validate=validate.Regexp(r"^(medtop:)?\d{8}$", error="Must be an IPTC code like 'medtop:11000000'.")
        ),
        load_default=list,
    )
    entities = _names(load_default=list)
    places = _names(load_default=list)
    sources = _names(load_default=list)
    languages = fields.List(
        fields.String(validate=validate.Regexp(r"^[a-z]{2}$", error="Must be an ISO 639-1 code.")), load_default=list
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
