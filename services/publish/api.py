"""HTTP entrypoint of publish: read articles, manage subscriptions, read the delivery log."""

from __future__ import annotations

from flask import Blueprint, current_app, url_for

from services.publish import usecases
from services.publish.schemas import SubscriptionIn, SubscriptionPatch
from services.publish.ssrf import UnsafeURL
from shared.web import Problem, json_body

bp = Blueprint("publish", __name__, url_prefix="/v1")


def _publisher() -> usecases.Publisher:
    return current_app.extensions["newsflow"]


def _subscription_or_404(sub_id: str) -> dict:
    sub = _publisher().repo.subscription(sub_id)
    if sub is None:
        raise Problem(404, "Not Found", f"No subscription with id {sub_id!r}.")
    return sub


def _unsafe(exc: UnsafeURL) -> Problem:
    return Problem(422, "Unprocessable Content", "The webhook URL is not allowed.", {"url": [str(exc)]})


@bp.get("/articles/<article_id>")
def get_article(article_id: str):
    article = _publisher().store.enriched(article_id)
    if article is None:
        raise Problem(404, "Not Found", f"No enriched article with id {article_id!r} (yet).")
    return article


@bp.post("/subscriptions")
def create_subscription():
    data = SubscriptionIn().load(json_body())
    try:
        sub = usecases.create_subscription(_publisher(), data)
    except UnsafeURL as exc:
        raise _unsafe(exc) from None
    location = url_for(".get_subscription", sub_id=sub["id"])
    return {**usecases.public_view(sub), "secret": sub["secret"]}, 201, {"Location": location}


@bp.get("/subscriptions")
def list_subscriptions():
    return {"items": [usecases.public_view(s) for s in _publisher().repo.subscriptions()]}


@bp.get("/subscriptions/<sub_id>")
def get_subscription(sub_id: str):
    return usecases.public_view(_subscription_or_404(sub_id))


@bp.patch("/subscriptions/<sub_id>")
def patch_subscription(sub_id: str):
    sub = _subscription_or_404(sub_id)
    changes = SubscriptionPatch().load(json_body())
    try:
        return usecases.public_view(usecases.update_subscription(_publisher(), sub, changes))
    except UnsafeURL as exc:
        raise _unsafe(exc) from None


@bp.delete("/subscriptions/<sub_id>")
def delete_subscription(sub_id: str):
    if not _publisher().repo.delete_subscription(sub_id):
        raise Problem(404, "Not Found", f"No subscription with id {sub_id!r}.")
    return "", 204


@bp.get("/subscriptions/<sub_id>/deliveries")
def list_deliveries(sub_id: str):
    _subscription_or_404(sub_id)
    items = _publisher().repo.deliveries_of(sub_id)
    return {"items": [{k: v for k, v in d.items() if k != "next_attempt_ts"} for d in items]}
