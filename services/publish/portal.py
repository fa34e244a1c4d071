"""The consumer portal: one server-rendered page at /portal where a consumer manages its own webhooks.

The consumer signs in by posting its key in a form (never in a URL); the portal then holds only the key's id in a
signed, short-lived cookie (HttpOnly, SameSite=Strict, Path=/portal, and Secure when served over https; PORTAL_
SESSION_S). Every request checks that key id again, so revoking the key or disabling the consumer ends the session.
Every POST is refused when another site sent it (the console's check), besides the SameSite cookie. What the page
shows and does goes through the same use cases and ownership checks as the API (services/publish/consumers.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from marshmallow import ValidationError

from services.publish import consumers, queries, subscriptions
from services.publish.access import rate_limit
from services.publish.auth import Principal
from services.publish.console import PAGE_HEADERS, cross_site, delivery_row
from services.publish.publisher import Conflict, NotFound, Publisher, QuotaExceeded
from services.publish.replay import redeliver as redeliver_now
from services.publish.sample_event import send_test_event
from services.publish.schemas import SubscriptionIn
from services.publish.ssrf import UnsafeURL
from shared.contracts import EventType
from shared.web import Problem

bp = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates")

COOKIE = "nf_portal"
RECENT_DELIVERIES = 10
EXCERPT_SHOWN = 300
FILTER_FIELDS = ("topics", "entities", "places", "sources", "languages")
REFUSED = (NotFound, Conflict, QuotaExceeded, UnsafeURL, ValidationError)
STATUS = {NotFound: 404, Conflict: 409, QuotaExceeded: 409}


def _publisher() -> Publisher:
    return current_app.extensions["newsflow"]


def _signer() -> URLSafeTimedSerializer:
    """Signs sessions with a secret derived from the operator keys: every process has it, nothing to configure,
    and rotating the operator keys ends every session."""
    keys = "|".join(sorted(_publisher().settings.publish_api_keys))
    return URLSafeTimedSerializer(hashlib.sha256(f"newsflow-portal|{keys}".encode()).hexdigest(), salt="portal")


def _session() -> Principal | None:
    try:
        key_id = _signer().loads(request.cookies.get(COOKIE, ""), max_age=_publisher().settings.portal_session_s)
    except BadSignature:
        return None
    return consumers.key_principal(_publisher(), key_id)


@bp.before_request
def _guard():
    if request.method == "POST" and cross_site(
        request.headers.get("Sec-Fetch-Site"), request.headers.get("Origin"), request.host
    ):
        raise Problem(403, "Forbidden", "Cross-site request refused: use the portal page itself.")
    who = _session()
    if who is not None:
        g.principal = who  # the audit log names the key id
        rate_limit()
    elif request.endpoint not in ("portal.page", "portal.login"):
        return redirect(url_for(".page"), 303)
    return None


@bp.after_request
def _page_headers(response: Response) -> Response:
    response.headers.update(PAGE_HEADERS)
    return response


def _render(notice: dict | None = None, status: int = 200):
    who = g.get("principal")
    if who is None:
        return render_template("portal_login.html", notice=notice), status
    p = _publisher()
    subs = subscriptions.subscription_views(p, who.consumer_id)
    for sub in subs:
        page = queries.deliveries_page(p, sub["id"], None, RECENT_DELIVERIES, None)["items"]
        sub["deliveries"] = [_with_excerpts(d) for d in page]
    consumer = consumers.consumer(p, who.consumer_id)
    return render_template(
        "portal.html", consumer=consumer, subscriptions=subs, event_types=EventType.SUBSCRIBABLE, notice=notice
    ), status


def _with_excerpts(view: dict) -> dict:
    attempts = [{**a, "response_excerpt": a["response_excerpt"][:EXCERPT_SHOWN]} for a in view["attempts"]]
    return {**view, "attempts": attempts}


def _act(action: Callable[[Principal], object]):
    """Run a use case for the signed-in consumer; a refusal is shown on the page with its status."""
    try:
        return action(g.principal)
    except REFUSED as exc:
        return _render({"error": _message(exc)}, STATUS.get(type(exc), 422))


def _message(exc: Exception) -> str:
    """A refusal in one line; a validation error names each field (`filters: ...`)."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{field}: {' '.join(map(str, problems))}" for field, problems in exc.messages.items())
    return str(exc)


@bp.get("")
def page():
    return _render()


@bp.post("/login")
def login():
    who = consumers.authenticate(_publisher(), lambda _: None, request.form.get("key", "").strip())
    if who is None:
        return _render({"error": "That key is not a live consumer key."}, 401)
    response = redirect(url_for(".page"), 303)
    response.set_cookie(
        COOKIE, _signer().dumps(who.name), max_age=int(_publisher().settings.portal_session_s), path="/portal",
        secure=_over_https(), httponly=True, samesite="Strict",
    )  # fmt: skip
    return response


def _over_https() -> bool:
    """Served over https, directly or behind a TLS proxy (compose's Caddy runs in another container, whose
    X-Forwarded-Proto gunicorn does not apply). Trusting the header can only add `Secure`, never drop it."""
    return request.is_secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


@bp.post("/logout")
def logout():
    response = redirect(url_for(".page"), 303)
    response.delete_cookie(COOKIE, path="/portal", secure=_over_https(), httponly=True, samesite="Strict")
    return response


@bp.post("/subscriptions")
def create():
    def run(who: Principal):
        form = request.form
        data = {"url": form.get("url", ""), "description": form.get("description", "")}
        data["event_types"] = form.getlist("event_types") or list(EventType.SUBSCRIBABLE)
        filters = {name: _values(form.get(name, "")) for name in FILTER_FIELDS}
        data["filters"] = {name: values for name, values in filters.items() if values}
        loaded = SubscriptionIn().load(data)
        sub = consumers.create_subscription(_publisher(), who, loaded)
        warnings = subscriptions.url_warnings(_publisher(), sub["url"])
        return _render({"secret": sub["secret"], "sub_id": sub["id"], "warnings": warnings}, 201)

    return _act(run)


def _values(raw: str) -> list[str]:
    return [value.strip() for value in raw.split(",") if value.strip()]


@bp.post("/subscriptions/<sub_id>/enabled")
def set_enabled(sub_id: str):
    def run(who: Principal):
        consumers.owned_subscription(_publisher(), who, sub_id)
        subscriptions.update_subscription(_publisher(), sub_id, {"enabled": request.form.get("enabled") == "true"})
        return redirect(url_for(".page"), 303)

    return _act(run)


@bp.post("/subscriptions/<sub_id>/rotate-secret")
def rotate_secret(sub_id: str):
    def run(who: Principal):
        consumers.owned_subscription(_publisher(), who, sub_id)
        sub = subscriptions.rotate_secret(_publisher(), sub_id)
        return _render({"secret": sub["secret"], "sub_id": sub_id})

    return _act(run)


@bp.post("/subscriptions/<sub_id>/test")
def send_test(sub_id: str):
    def run(who: Principal):
        attempt = send_test_event(_publisher(), consumers.owned_subscription(_publisher(), who, sub_id))
        return _render({"test": attempt.as_dict(), "sub_id": sub_id})

    return _act(run)


@bp.post("/deliveries/<delivery_id>/redeliver")
def redeliver(delivery_id: str):
    def run(who: Principal):
        consumers.owned_delivery(_publisher(), who, delivery_id)
        delivery = redeliver_now(_publisher(), delivery_id)
        return _render({"redelivered": delivery_row(delivery)}, 202)

    return _act(run)
