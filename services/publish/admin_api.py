"""HTTP entrypoint of the operator's routes: consumers, their keys, and the audit log (operator keys only)."""

from __future__ import annotations

from flask import Blueprint, current_app, request, url_for

from services.publish import audit, consumers
from services.publish.access import operator_only
from services.publish.admin_schemas import (
    AuditPage,
    AuditQuery,
    Consumer,
    ConsumerIn,
    ConsumerList,
    ConsumerPatch,
    IssuedKey,
    KeyIn,
)
from services.publish.publisher import Publisher, QuotaExceeded
from shared.openapi import Operation, path_parameter
from shared.web import Problem, json_body, problem_response

bp = Blueprint("admin", __name__, url_prefix="/v1")

_ANY = {401: None, 403: None, 503: None}  # 403: a consumer key
_BODY = {400: None, 413: None, 415: None, 422: None}
CONSUMER, KEY = path_parameter("consumer_id"), path_parameter("key_id")
OPERATIONS = [
    Operation("/v1/consumers", "post", "Create a consumer (a subscriber organisation)",
              {201: Consumer, **_BODY, **_ANY}, body=ConsumerIn,
              example={"name": "Lusa desk", "contact": "webhooks@lusa.example", "rate_limit": 10}),
    Operation("/v1/consumers", "get", "Every consumer", {200: ConsumerList, **_ANY}),
    Operation("/v1/consumers/{consumer_id}", "get", "A consumer and its keys (never the keys themselves)",
              {200: Consumer, 404: None, **_ANY}, parameters=[CONSUMER]),
    Operation("/v1/consumers/{consumer_id}", "patch", "Change a consumer; `enabled: false` refuses its keys",
              {200: Consumer, 404: None, **_BODY, **_ANY}, body=ConsumerPatch, parameters=[CONSUMER],
              example={"enabled": False}),
    Operation("/v1/consumers/{consumer_id}", "delete", "Delete a consumer, its keys and its subscriptions",
              {204: None, 404: None, **_ANY}, parameters=[CONSUMER]),
    Operation("/v1/consumers/{consumer_id}/keys", "post", "Issue a consumer key, shown only in this answer",
              {201: IssuedKey, 404: None, 409: None, **_BODY, **_ANY}, body=KeyIn, parameters=[CONSUMER],
              example={"name": "production"}),
    Operation("/v1/consumers/{consumer_id}/keys/{key_id}", "delete", "Revoke a consumer key",
              {204: None, 404: None, **_ANY}, parameters=[CONSUMER, KEY]),
    Operation("/v1/audit", "get", "Who changed what, newest first", {200: AuditPage, 422: None, **_ANY},
              parameters=[{"in": "query", "schema": AuditQuery}]),
]  # fmt: skip


def _publisher() -> Publisher:
    return current_app.extensions["newsflow"]


@bp.app_errorhandler(QuotaExceeded)
def _quota(exc: QuotaExceeded):
    return problem_response(409, "Conflict", str(exc))


@bp.post("/consumers")
@operator_only
def create_consumer():
    consumer = consumers.create_consumer(_publisher(), ConsumerIn().load(json_body()))
    location = url_for(".get_consumer", consumer_id=consumer["id"])
    return consumers.public_view(consumer), 201, {"Location": location}


@bp.get("/consumers")
@operator_only
def list_consumers():
    return {"items": consumers.consumer_views(_publisher())}


@bp.get("/consumers/<consumer_id>")
@operator_only
def get_consumer(consumer_id: str):
    return consumers.public_view(consumers.consumer(_publisher(), consumer_id))


@bp.patch("/consumers/<consumer_id>")
@operator_only
def patch_consumer(consumer_id: str):
    consumers.consumer(_publisher(), consumer_id)  # 404 before 422
    changes = ConsumerPatch().load(json_body())
    return consumers.public_view(consumers.update_consumer(_publisher(), consumer_id, changes))


@bp.delete("/consumers/<consumer_id>")
@operator_only
def delete_consumer(consumer_id: str):
    consumers.delete_consumer(_publisher(), consumer_id)
    return "", 204


@bp.post("/consumers/<consumer_id>/keys")
@operator_only
def issue_key(consumer_id: str):
    consumers.consumer(_publisher(), consumer_id)  # 404 before 422
    data = KeyIn().load(json_body())
    record, key = consumers.issue_key(_publisher(), consumer_id, data["name"])
    return {**record, "key": key}, 201


@bp.delete("/consumers/<consumer_id>/keys/<key_id>")
@operator_only
def revoke_key(consumer_id: str, key_id: str):
    consumers.revoke_key(_publisher(), consumer_id, key_id)
    return "", 204


@bp.get("/audit")
@operator_only
def audit_log():
    query = AuditQuery().load(request.args.to_dict())
    try:
        return audit.audit_page(_publisher(), query["limit"], query["cursor"])
    except ValueError:
        raise Problem(
            422, "Unprocessable Content", "The cursor is not one this API handed out.", {"cursor": ["Invalid cursor."]}
        ) from None
