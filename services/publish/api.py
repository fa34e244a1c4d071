"""HTTP entrypoint of publish: read articles, manage subscriptions, read and act on the delivery log."""

from __future__ import annotations

from flask import Blueprint, current_app, request, url_for

from services.publish import consumers, queries, subscriptions
from services.publish import replay as replays
from services.publish.access import principal
from services.publish.admin_schemas import SubscriptionsQuery
from services.publish.publisher import Conflict, NotFound, Publisher
from services.publish.schemas import (
    Article,
    DeliveriesQuery,
    Delivery,
    DeliveryPage,
    Feed,
    FeedQuery,
    ReplayIn,
    ReplayResult,
    Subscription,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionPatch,
    SubscriptionWithSecret,
)
from services.publish.ssrf import UnsafeURL
from shared.contracts import EventType
from shared.openapi import HEALTH, Operation, path_parameter
from shared.web import Problem, json_body, problem_response

bp = Blueprint("publish", __name__, url_prefix="/v1")

_ANY = {401: None, 429: None, 503: None}  # every operation: no or wrong key; a consumer's rate; Redis unreachable
_BODY = {400: None, 413: None, 415: None, 422: None}  # every operation with a JSON body
_QUERY = {414: None, 422: None}  # every operation with query parameters; 414 (from gunicorn) past 8190 bytes
SUB, DELIVERY = path_parameter("sub_id"), path_parameter("delivery_id")
OPERATIONS = [
    *HEALTH,
    Operation(
        "/v1/articles", "get", "Published articles, newest first, matching every filter given",
        {200: Feed, **_QUERY, **_ANY}, parameters=[{"in": "query", "schema": FeedQuery}],
    ),
    Operation(
        "/v1/articles/{article_id}", "get", "A finished article (ninjs); 404 until it is enriched",
        {200: Article, 404: None, **_ANY}, parameters=[path_parameter("article_id")],
    ),
    Operation(
        "/v1/subscriptions", "post", "Subscribe a webhook URL; the answer holds its secret",
        {201: SubscriptionWithSecret, 409: None, **_BODY, **_ANY}, body=SubscriptionIn, example={
            "url": "https://hooks.example.com/newsflow", "description": "Portugal desk",
            "event_types": [EventType.PUBLISHED], "filters": {"places": ["PT"], "topics": ["medtop:16000000"]},
        },
    ),
    Operation(
        "/v1/subscriptions", "get", "Every subscription (a consumer key: its own)",
        {200: SubscriptionList, **_QUERY, **_ANY}, parameters=[{"in": "query", "schema": SubscriptionsQuery}],
    ),
    Operation(
        "/v1/subscriptions/{sub_id}", "get", "A subscription and its endpoint health",
        {200: Subscription, 404: None, **_ANY}, parameters=[SUB],
    ),
    Operation(
        "/v1/subscriptions/{sub_id}", "patch", "Change a subscription; `enabled: true` re-enables it",
        {200: Subscription, 404: None, **_BODY, **_ANY}, body=SubscriptionPatch, parameters=[SUB],
        example={"enabled": True, "filters": {"places": ["PT", "ES"]}},
    ),
    Operation(
        "/v1/subscriptions/{sub_id}", "delete", "Delete a subscription with its delivery log",
        {204: None, 404: None, **_ANY}, parameters=[SUB],
    ),
    Operation(
        "/v1/subscriptions/{sub_id}/rotate-secret", "post",
        "A new secret; the previous one keeps signing for the grace period",
        {200: SubscriptionWithSecret, 404: None, **_ANY}, parameters=[SUB],
    ),
    Operation(
        "/v1/subscriptions/{sub_id}/deliveries", "get", "The delivery log, newest first",
        {200: DeliveryPage, 404: None, **_QUERY, **_ANY},
        parameters=[SUB, {"in": "query", "schema": DeliveriesQuery}],
    ),
    Operation(
        "/v1/subscriptions/{sub_id}/replay", "post",
        "Re-send the matching articles published in a window, as new deliveries",
        {202: ReplayResult, 404: None, 409: None, **_BODY, **_ANY}, body=ReplayIn, parameters=[SUB],
        example={"since": "2026-11-24T00:00:00Z", "until": "2026-11-25T00:00:00Z"},
    ),
    Operation(
        "/v1/deliveries/{delivery_id}", "get", "A delivery with its attempts",
        {200: Delivery, 404: None, **_ANY}, parameters=[DELIVERY],
    ),
    Operation(
        "/v1/deliveries/{delivery_id}/redeliver", "post", "One more attempt now, with the same webhook-id",
        {202: Delivery, 404: None, 409: None, **_ANY}, parameters=[DELIVERY],
    ),
]  # fmt: skip


def _publisher() -> Publisher:
    return current_app.extensions["newsflow"]


# Use-case errors, translated once for every view.
@bp.app_errorhandler(NotFound)
def _not_found(exc: NotFound):
    return problem_response(404, "Not Found", str(exc))


@bp.app_errorhandler(Conflict)
def _conflict(exc: Conflict):
    return problem_response(409, "Conflict", str(exc), headers={"Retry-After": "5"})


@bp.app_errorhandler(UnsafeURL)
def _unsafe(exc: UnsafeURL):
    return problem_response(422, "Unprocessable Content", "The webhook URL is not allowed.", {"url": [str(exc)]})


@bp.get("/articles")
def list_articles():
    query = FeedQuery().load(request.args.to_dict())
    try:
        return queries.feed_page(_publisher(), query)
    except ValueError:
        raise Problem(
            422,
            "Unprocessable Content",
            "The cursor is not one this API handed out for these filters.",
            {"cursor": ["Invalid cursor: pass next_cursor back with the same filters and since."]},
        ) from None


@bp.get("/articles/<article_id>")
def get_article(article_id: str):
    return queries.article(_publisher(), article_id)


@bp.post("/subscriptions")
def create_subscription():
    data = SubscriptionIn().load(json_body())
    sub = consumers.create_subscription(_publisher(), principal(), data)
    warnings = subscriptions.url_warnings(_publisher(), sub["url"])
    location = url_for(".get_subscription", sub_id=sub["id"])
    shown = {**subscriptions.public_view(sub), "secret": sub["secret"], **({"warnings": warnings} if warnings else {})}
    return shown, 201, {"Location": location}


@bp.get("/subscriptions")
def list_subscriptions():
    asked = SubscriptionsQuery().load(request.args.to_dict())["consumer"]
    return {"items": subscriptions.subscription_views(_publisher(), consumers.visible_consumer(principal(), asked))}


@bp.get("/subscriptions/<sub_id>")
def get_subscription(sub_id: str):
    consumers.owned_subscription(_publisher(), principal(), sub_id)
    return subscriptions.subscription_view(_publisher(), sub_id)


@bp.patch("/subscriptions/<sub_id>")
def patch_subscription(sub_id: str):
    consumers.owned_subscription(_publisher(), principal(), sub_id)  # 404 before 422
    changes = SubscriptionPatch().load(json_body())
    if "url" in changes:
        subscriptions.url_warnings(_publisher(), changes["url"])
    subscriptions.update_subscription(_publisher(), sub_id, changes)
    return subscriptions.subscription_view(_publisher(), sub_id)


@bp.delete("/subscriptions/<sub_id>")
def delete_subscription(sub_id: str):
    consumers.owned_subscription(_publisher(), principal(), sub_id)
    subscriptions.delete_subscription(_publisher(), sub_id)
    return "", 204


@bp.post("/subscriptions/<sub_id>/rotate-secret")
def rotate_secret(sub_id: str):
    consumers.owned_subscription(_publisher(), principal(), sub_id)
    sub = subscriptions.rotate_secret(_publisher(), sub_id)
    return {**subscriptions.subscription_view(_publisher(), sub_id), "secret": sub["secret"]}


@bp.get("/subscriptions/<sub_id>/deliveries")
def list_deliveries(sub_id: str):
    consumers.owned_subscription(_publisher(), principal(), sub_id)
    query = DeliveriesQuery().load(request.args.to_dict())
    try:
        return queries.deliveries_page(_publisher(), sub_id, query["status"], query["limit"], query["cursor"])
    except ValueError:
        raise Problem(
            422, "Unprocessable Content", "The cursor is not one this API handed out.", {"cursor": ["Invalid cursor."]}
        ) from None


@bp.post("/subscriptions/<sub_id>/replay")
def replay(sub_id: str):
    consumers.owned_subscription(_publisher(), principal(), sub_id)  # 404 before 422
    window = ReplayIn().load(json_body())
    consumers.check_replay_window(_publisher(), principal(), window["since"].timestamp())
    until = window["until"].timestamp() if window["until"] else None
    result = replays.replay(_publisher(), sub_id, window["since"].timestamp(), until)
    return result, 202


@bp.get("/deliveries/<delivery_id>")
def get_delivery(delivery_id: str):
    return queries.delivery_view(consumers.owned_delivery(_publisher(), principal(), delivery_id))


@bp.post("/deliveries/<delivery_id>/redeliver")
def redeliver(delivery_id: str):
    consumers.owned_delivery(_publisher(), principal(), delivery_id)
    delivery = replays.redeliver(_publisher(), delivery_id)
    return queries.delivery_view(delivery), 202, {"Location": url_for(".get_delivery", delivery_id=delivery_id)}
