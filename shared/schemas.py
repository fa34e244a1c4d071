"""Message and API schemas shared by the services, defined once: they validate requests and
generate the OpenAPI documents (DESIGN.md §3)."""

from __future__ import annotations

from datetime import UTC

import pycountry
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from shared.contracts import ArticleState

MAX_TEXT_CHARS = 500_000
MAX_BATCH = 100
ISO_639_1 = sorted(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))
# Some non-space character; `match` here and a JSON Schema `pattern` (a search) mean the same.
_NOT_BLANK = validate.Regexp(r"[\s\S]*\S", error="Must not be blank.")


def _text(max_chars: int) -> list:
    return [validate.Length(min=1, max=max_chars), _NOT_BLANK]


class ArticleIn(Schema):
    """A raw article: `title` and exactly one of `body` (plain text) or `html`."""

    class Meta:
        unknown = RAISE

    title = fields.String(required=True, validate=_text(1000))
    body = fields.String(
        validate=_text(MAX_TEXT_CHARS),
        metadata={
            "description": "Plain text, or HTML laid out in blocks (`<p>`, `<br>`, ...), read as HTML; or send `html`."
        },
    )
    html = fields.String(validate=_text(MAX_TEXT_CHARS), metadata={"description": "HTML; or send `body`."})
    url = fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2048))
    source = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "Default: key name."})
    external_id = fields.String(validate=validate.Length(min=1, max=500))
    published_at = fields.AwareDateTime(format="iso", default_timezone=UTC)
    language = fields.String(validate=validate.OneOf(ISO_639_1), metadata={"description": "ISO 639-1 code."})
    authors = fields.List(fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(max=50))

    @validates_schema
    def _one_text(self, data: dict, **_) -> None:
        if ("body" in data) == ("html" in data):
            raise ValidationError("Send exactly one of 'body' (plain text) or 'html'.", "body")

    @post_load
    def _normalise(self, data: dict, **_) -> dict:
        if "published_at" in data:
            data["published_at"] = data["published_at"].isoformat()
        return data


class BatchIn(Schema):
    class Meta:
        unknown = RAISE

    # Items are validated one by one (as ArticleIn), so one bad item never rejects the others.
    articles = fields.List(
        fields.Raw(metadata={"description": "An ArticleIn object."}),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH),
    )


class Links(Schema):
    self = fields.String(required=True)


class Receipt(Schema):
    id = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True)
    links = fields.Nested(Links, required=True)
    duplicate = fields.Boolean(metadata={"description": "Present and true when nothing changed."})


class BatchItemResult(Schema):
    status = fields.Integer(required=True, metadata={"description": "202, 200 (duplicate) or 422."})
    id = fields.String()
    version = fields.Integer()
    duplicate = fields.Boolean()
    errors = fields.Dict(metadata={"description": "Field -> messages, when status is 422."})


class BatchResult(Schema):
    results = fields.List(fields.Nested(BatchItemResult), required=True)


class ArticleStatus(Schema):
    id = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(ArticleState.ALL))
    received_at = fields.String(required=True)
    version_received_at = fields.String(required=True)
    updated_at = fields.String(required=True)
    error = fields.String()


class Problem(Schema):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.Dict(metadata={"description": "Field -> messages, on 422."})
