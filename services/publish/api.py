"""HTTP entrypoint of publish: read articles, manage subscriptions, read and act on the delivery log."""

from __future__ import annotations

from flask import Blueprint, current_app, request, url_for

from services.publish import usecases
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
from shared.openapi import HEALTH, Operation, path_parameter
from shared.web import Problem, json_body, problem_response

bp = Blueprint("publish", __name__, url_prefix="/v1")

_ANY = {401: None, 503: None}  # every operation: no or wrong key; Redis unreachable
_BODY = {400: None, 415: None, 422: None}  # every operation with a JSON body
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
        {201: SubscriptionWithSecret, **_BODY, **_ANY}, body=SubscriptionIn, example={
            "url": "https://hooks.example.com/newsflow", "description": "Portugal desk",
            "event_types": ["article.published"], "filters": {"places": ["PT"], "topics": ["medtop:16000000"]},
        },
    ),
    Operation("/v1/subscriptions", "get", "Every subscription", {200: SubscriptionList, **_ANY}),
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


def _publisher() -> usecases.Publisher:
    return current_app.extensions["newsflow"]


def _not_found(detail: str) -> Problem:
    return Problem(404, "Not Found", detail)


def _subscription_or_404(sub_id: str) -> dict:
    sub = _publisher().repo.subscription(sub_id)
    if sub is None:
        raise _not_found(f"No subscription with id {sub_id!r}.")
    return sub


def _view(sub: dict) -> dict:
    return usecases.public_view(sub, _publisher().repo.health(sub["id"]))


# Use-case errors, translated once for every view.
@bp.errorhandler(usecases.NotFound)
def _not_found_error(exc: usecases.NotFound):
    return problem_response(404, "Not Found", str(exc))


@bp.errorhandler(usecases.Conflict)
def _conflict(exc: usecases.Conflict):
    return problem_response(409, "Conflict", str(exc), headers={"Retry-After": "5"})


@bp.errorhandler(UnsafeURL)
def _unsafe(exc: UnsafeURL):
    return problem_response(422, "Unprocessable Content", "The webhook URL is not allowed.", {"url": [str(exc)]})


@bp.get("/articles")
def list_articles():
    return usecases.feed_page(_publisher(), FeedQuery().load(request.args.to_dict()))


@bp.get("/articles/<article_id>")
def get_article(article_id: str):
    article = _publisher().store.enriched(article_id)
    if article is None:
        raise _not_found(f"No enriched article with id {article_id!r} (yet).")
    return article


@bp.post("/subscriptions")
def create_subscription():
    data = SubscriptionIn().load(json_body())
    sub = usecases.create_subscription(_publisher(), data)
    location = url_for(".get_subscription", sub_id=sub["id"])
    return {**usecases.public_view(sub), "secret": sub["secret"]}, 201, {"Location": location}


@bp.get("/subscriptions")
def list_subscriptions():
    subs = _publisher().repo.subscriptions()
    healths = _publisher().repo.healths([s["id"] for s in subs])
    return {"items": [usecases.public_view(s, healths[s["id"]]) for s in subs]}


@bp.get("/subscriptions/<sub_id>")
def get_subscription(sub_id: str):
    return _view(_subscription_or_404(sub_id))


@bp.patch("/subscriptions/<sub_id>")
def patch_subscription(sub_id: str):
    _subscription_or_404(sub_id)
    changes = SubscriptionPatch().load(json_body())
    return _view(usecases.update_subscription(_publisher(), sub_id, changes))


@bp.delete("/subscriptions/<sub_id>")
def delete_subscription(sub_id: str):
    if not _publisher().repo.delete_subscription(sub_id):
        raise _not_found(f"No subscription with id {sub_id!r}.")
    return "", 204


@bp.post("/subscriptions/<sub_id>/rotate-secret")
def rotate_secret(sub_id: str):
    sub = usecases.rotate_secret(_publisher(), sub_id)
    return {**_view(sub), "secret": sub["secret"]}


@bp.get("/subscriptions/<sub_id>/deliveries")
def list_deliveries(sub_id: str):
    _subscription_or_404(sub_id)
    query = DeliveriesQuery().load(request.args.to_dict())
    try:
        return usecases.deliveries_page(_publisher(), sub_id, query["status"], query["limit"], query["cursor"])
    except ValueError:
        raise Problem(
            422, "Unprocessable Content", "The cursor is not one this API handed out.", {"cursor": ["Invalid cursor."]}
        ) from None


@bp.post("/subscriptions/<sub_id>/replay")
def replay(sub_id: str):
    window = ReplayIn().load(json_body())
    until = window["until"].timestamp() if window["until"] else None
    result = usecases.replay(_publisher(), sub_id, window["since"].timestamp(), until)
    return result, 202


@bp.get("/deliveries/<delivery_id>")
def get_delivery(delivery_id: str):
    delivery = _publisher().repo.delivery(delivery_id)
    if delivery is None:
        raise _not_found(f"No delivery with id {delivery_id!r}.")
    return usecases.delivery_view(delivery)


@bp.post("/deliveries/<delivery_id>/redeliver")
def redeliver(delivery_id: str):
    delivery = usecases.redeliver(_publisher(), delivery_id)
    return usecases.delivery_view(delivery), 202, {"Location": url_for(".get_delivery", delivery_id=delivery_id)}
