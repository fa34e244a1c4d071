"""Requests and responses of the operator's routes (consumers, their keys, the audit log) and the
`?consumer=` filter; closed like services/publish/schemas.py, so the fuzzer catches a leaked field."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate


class _Closed(Schema):
    class Meta:
        unknown = RAISE


def _when(**kwargs) -> fields.String:
    return fields.String(metadata={"format": "date-time"}, **kwargs)


_NAME = validate.Length(min=1, max=200)
_CONTACT = validate.Length(max=320)
_RATE = validate.Range(min=0.01, max=100000)


class ConsumerIn(_Closed):
    name = fields.String(required=True, validate=_NAME)
    contact = fields.String(validate=_CONTACT, load_default=None, allow_none=True)
    rate_limit = fields.Float(
        validate=_RATE, load_default=None, allow_none=True,
        metadata={"description": "Requests per second; null: PUBLISH_RATE_LIMIT."},
    )  # fmt: skip


class ConsumerPatch(_Closed):
    name = fields.String(validate=_NAME)
    contact = fields.String(validate=_CONTACT, allow_none=True)
    rate_limit = fields.Float(validate=_RATE, allow_none=True)
    enabled = fields.Boolean(truthy={True}, falsy={False}, metadata={"description": "false refuses its keys."})


class KeyIn(_Closed):
    name = fields.String(validate=_NAME, load_default=None, allow_none=True)


class ConsumerKey(_Closed):
    id = fields.String(required=True, metadata={"description": "Names the key in the audit log; revoke by it."})
    name = fields.String(required=True, allow_none=True)
    created_at = _when(required=True)


class IssuedKey(ConsumerKey):
    key = fields.String(required=True, metadata={"description": "The key itself, shown only here."})


class Consumer(_Closed):
    id = fields.String(required=True)
    name = fields.String(required=True)
    contact = fields.String(required=True, allow_none=True)
    rate_limit = fields.Float(required=True, allow_none=True)
    enabled = fields.Boolean(required=True)
    keys = fields.List(fields.Nested(ConsumerKey), required=True)
    created_at = _when(required=True)
    updated_at = _when(required=True)


class ConsumerList(_Closed):
    items = fields.List(fields.Nested(Consumer), required=True)


class SubscriptionsQuery(_Closed):
    consumer = fields.String(
        validate=validate.Length(min=1, max=100), load_default=None,
        metadata={"description": "Operators: only this consumer's subscriptions. Ignored for consumer keys."},
    )  # fmt: skip


class AuditQuery(_Closed):
    limit = fields.Integer(validate=validate.Range(min=1, max=200), load_default=50)
    cursor = fields.String(validate=validate.Length(min=1, max=100), load_default=None)


class Actor(_Closed):
    kind = fields.String(required=True, validate=validate.OneOf(["operator", "consumer"]))
    name = fields.String(required=True, metadata={"description": "Operator key name, or consumer key id."})
    consumer_id = fields.String(required=True, allow_none=True)


class AuditEntry(_Closed):
    id = fields.String(required=True)
    at = _when(required=True)
    actor = fields.Nested(Actor, required=True)
    action = fields.String(required=True)
    target = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    changes = fields.Dict(required=True, metadata={"description": "The request's fields, e.g. {enabled: false}."})


class AuditPage(_Closed):
    items = fields.List(fields.Nested(AuditEntry), required=True)
    next_cursor = fields.String(required=True, allow_none=True)
