"""Publish requests and responses (marshmallow): requests reject unknown fields and every error names its field;
response schemas document what the views return (they generate the OpenAPI document, services/publish/api.py)."""

from __future__ import annotations

from datetime import UTC

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from services.publish.matching import topic_code
from shared.contracts import DeliveryStatus, EventType
from shared.mediatopics import NAMES as TOPIC_NAMES

MAX_FILTER_VALUES = 100


def _list(item: fields.Field, **kwargs) -> fields.List:
    return fields.List(item, validate=validate.Length(max=MAX_FILTER_VALUES), **kwargs)


def _names(**kwargs) -> fields.List:
    return _list(fields.String(validate=validate.Length(min=1, max=200)), **kwargs)


def _url(**kwargs) -> fields.Url:
    # "uri" is the JSON Schema format (apispec writes "url", which generators and validators do not know)
    return fields.Url(
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=2048),
        metadata={"format": "uri"},
        **kwargs,
    )


def _event_types(**kwargs) -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(EventType.SUBSCRIBABLE)), validate=validate.Length(min=1), **kwargs
    )


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
    event_types = _event_types(load_default=lambda: list(EventType.SUBSCRIBABLE))
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

    status = fields.String(validate=validate.OneOf(DeliveryStatus.ALL), load_default=None)
    limit = fields.Integer(validate=validate.Range(min=1, max=200), load_default=50)
    cursor = fields.String(validate=validate.Length(min=1, max=500), load_default=None)


def _known_topic(value: str) -> None:
    if topic_code(value) not in TOPIC_NAMES:
        raise ValidationError(
            "Unknown topic: an IPTC Media Topic code Newsflow assigns, like 'medtop:11000000' (politics)."
        )


class FeedQuery(Schema):
    """GET /v1/articles: one value per filter; all given must match."""

    class Meta:
        unknown = RAISE

    topic = fields.String(validate=_known_topic)
    entity = fields.String(validate=validate.Length(min=1, max=200))
    place = fields.String(validate=validate.Length(min=1, max=200))
    source = fields.String(validate=validate.Length(min=1, max=200))
    language = fields.String(validate=validate.Regexp(r"^[a-z]{2}$", error="Must be an ISO 639-1 code."))
    since = fields.AwareDateTime(format="iso", default_timezone=UTC, load_default=None)
    limit = fields.Integer(validate=validate.Range(min=1, max=100), load_default=20)
    cursor = fields.String(
        validate=validate.Length(min=1, max=500),
        load_default=None,
        metadata={"description": "next_cursor of the previous page, with the same filters and since."},
    )


# Responses. Closed (additionalProperties: false) where the shape is ours, so the fuzzer catches a leaked field.


class _Closed(Schema):
    class Meta:
        unknown = RAISE


def _when(description: str = "", **kwargs) -> fields.String:
    """An ISO 8601 time with its zone."""
    metadata = {"format": "date-time", **({"description": description} if description else {})}
    return fields.String(metadata=metadata, **kwargs)


class Health(_Closed):
    circuit = fields.String(required=True, validate=validate.OneOf(["closed", "open", "half-open"]))
    paused_until = _when(required=True, allow_none=True, description="While the circuit is open.")
    last_success_at = _when(required=True, allow_none=True)
    failing_since = _when(required=True, allow_none=True, description="First failure since then.")


class Subscription(_Closed):
    id = fields.String(required=True)
    url = fields.String(required=True)
    description = fields.String(required=True)
    event_types = fields.List(fields.String(validate=validate.OneOf(EventType.SUBSCRIBABLE)), required=True)
    filters = fields.Nested(Filters, required=True)
    enabled = fields.Boolean(required=True)
    disabled_reason = fields.String(required=True, allow_none=True)
    disabled_at = _when()
    created_at = _when(required=True)
    updated_at = _when(required=True)
    previous_secret_expires_at = _when("Until then the previous secret signs too.", required=True, allow_none=True)
    health = fields.Nested(Health, required=True)
    consumer_id = fields.String(metadata={"description": "The consumer it belongs to; absent: the operator's."})


class SubscriptionWithSecret(Subscription):
    secret = fields.String(required=True, metadata={"description": "whsec_ + base64; shown only here."})
    warnings = fields.List(fields.String(), metadata={"description": "E.g. a link-local URL allowed in dev mode."})


class SubscriptionList(_Closed):
    items = fields.List(fields.Nested(Subscription), required=True)


class Attempt(_Closed):
    at = _when(required=True)
    status_code = fields.Integer(required=True, allow_none=True, metadata={"description": "None: no answer."})
    duration_ms = fields.Integer(required=True)
    error = fields.String(required=True, allow_none=True)
    response_excerpt = fields.String(required=True, metadata={"description": "The answer's first 2 KB."})


class Delivery(_Closed):
    id = fields.String(required=True, metadata={"description": "The webhook-id, the same on every attempt."})
    subscription_id = fields.String(required=True)
    article_id = fields.String(required=True)
    version = fields.Integer(required=True)
    event_type = fields.String(required=True, validate=validate.OneOf(EventType.SUBSCRIBABLE))
    status = fields.String(required=True, validate=validate.OneOf(DeliveryStatus.ALL))
    created_at = _when(required=True)
    next_attempt_at = _when(required=True, allow_none=True)
    attempts = fields.List(fields.Nested(Attempt), required=True)
    replay_id = fields.String(metadata={"description": "Set on deliveries a replay created."})
    error = fields.String(metadata={"description": "Why it failed without an attempt."})


class DeliveryPage(_Closed):
    items = fields.List(fields.Nested(Delivery), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class ReplayResult(_Closed):
    replay_id = fields.String(required=True)
    count = fields.Integer(required=True, metadata={"description": "Deliveries created."})
    capped = fields.Boolean(required=True, metadata={"description": "More matched than WEBHOOK_REPLAY_MAX."})
    next_since = _when(required=True, allow_none=True, description="Where a further replay carries on.")


# The finished article (DESIGN.md §5): an IPTC ninjs 2.2 news item as `data`, closed as ninjs 2.2 is, and Newsflow's
# extra analysis as `enrichment`, the JSON Schema shared/enrichment.schema.json (served at /schemas/enrichment.json).


def _uri(description: str = "", **kwargs) -> fields.String:
    return fields.String(metadata={"format": "uri", **({"description": description} if description else {})}, **kwargs)


def _score(description: str) -> fields.Integer:
    return fields.Integer(required=True, validate=validate.Range(min=0, max=100), metadata={"description": description})


class NinjsText(_Closed):
    role = fields.String(required=True)
    value = fields.String(required=True)


class NinjsBody(NinjsText):
    contenttype = fields.String(required=True)
    wordcount = fields.Integer(required=True)
    charcount = fields.Integer(required=True)


class NinjsEntity(_Closed):
    name = fields.String(required=True)
    uri = _uri("Places: GeoNames, where known.")


class NinjsSubject(_Closed):
    name = fields.String(required=True)
    uri = _uri(required=True)
    literal = fields.String(required=True, metadata={"description": "medtop:<IPTC Media Topic code>"})
    relevance = _score("How the topic ranks in this article: 100 for the main topic.")
    confidence = _score("How sure the topic is on its own evidence.")
    creator = fields.String(required=True)


class NinjsName(_Closed):
    name = fields.String(required=True)


class NinjsAltId(_Closed):
    role = fields.String(required=True, validate=validate.OneOf(["url", "external-id"]))
    value = fields.String(required=True)


class NinjsItem(_Closed):
    """IPTC ninjs 2.2, as Newsflow fills it; validates against IPTC's schema unchanged."""

    uri = _uri("urn:newsflow:article:<id>", required=True)
    version = fields.String(required=True, metadata={"description": "The article's version, 1, 2, ..."})
    type = fields.String(required=True, validate=validate.OneOf(["text"]))
    language = fields.String(required=True)
    firstcreated = _when(required=True, description="Published upstream, else first received.")
    versioncreated = _when(required=True, description="This version received.")
    headlines = fields.List(fields.Nested(NinjsText), required=True)
    bodies = fields.List(fields.Nested(NinjsBody), required=True)
    descriptions = fields.List(fields.Nested(NinjsText), required=True)
    people = fields.List(fields.Nested(NinjsEntity), required=True)
    organisations = fields.List(fields.Nested(NinjsEntity), required=True)
    places = fields.List(fields.Nested(NinjsEntity), required=True)
    subjects = fields.List(fields.Nested(NinjsSubject), required=True)
    by = fields.String(metadata={"description": "The authors, when upstream named them."})
    infosources = fields.List(fields.Nested(NinjsName), metadata={"description": "The source."})
    altids = fields.List(fields.Nested(NinjsAltId), metadata={"description": "The source URL and external id."})


class Article(_Closed):
    data = fields.Nested(NinjsItem, required=True)
    enrichment = fields.Raw(required=True, metadata={"component": "Enrichment"})


class Feed(_Closed):
    items = fields.List(fields.Nested(Article), required=True)
    next_cursor = fields.String(required=True, allow_none=True, metadata={"description": "Pass as `cursor`."})
