"""The raw article as upstream systems send it (DESIGN.md §3, ingest contract)."""

from __future__ import annotations

from datetime import UTC

import pycountry
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates, validates_schema

MAX_TEXT_CHARS = 500_000


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


class ArticleIn(Schema):
    class Meta:
        unknown = RAISE

    title = fields.String(required=True, validate=[validate.Length(min=1, max=1000), _not_blank])
    body = fields.String(validate=[validate.Length(min=1, max=MAX_TEXT_CHARS), _not_blank])
    html = fields.String(validate=[validate.Length(min=1, max=MAX_TEXT_CHARS), _not_blank])
    url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2048))
    source = fields.String(validate=validate.Length(min=1, max=200))
    external_id = fields.String(validate=validate.Length(min=1, max=500))
    published_at = fields.AwareDateTime(format="iso", default_timezone=UTC)
    language = fields.String()
    authors = fields.List(fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=50))

    @validates("language")
    def _iso_639_1(self, value: str, **_) -> None:
        if len(value) != 2 or pycountry.languages.get(alpha_2=value.lower()) is None:
            raise ValidationError("Must be an ISO 639-1 code such as 'en'.")

    @validates_schema
    def _one_text(self, data: dict, **_) -> None:
        if ("body" in data) == ("html" in data):
            raise ValidationError("Send exactly one of 'body' (plain text) or 'html'.", "body")

    @post_load
    def _normalise(self, data: dict, **_) -> dict:
        if "published_at" in data:
            data["published_at"] = data["published_at"].isoformat()
        if "language" in data:
            data["language"] = data["language"].lower()
        return data
