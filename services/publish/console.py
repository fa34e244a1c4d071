"""The ops console: one server-rendered page at /console, for a person with a browser.

It sits behind HTTP Basic auth (any user name, an operator key as password) because a browser prompts
for that by itself; the API's bearer guard lets this blueprint through (shared/web.py). Reads go straight
through the publish use cases, as the API's views do; the one action, redeliver, is the API's use case.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for

from services.publish import queries, subscriptions
from services.publish.model import Delivery
from services.publish.publisher import Conflict, NotFound, Publisher
from services.publish.replay import redeliver as redeliver_now
from shared.contracts import QUEUES
from shared.times import iso
from shared.web import Problem, key_lookup

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")

RECENT_ARTICLES = 20
RECENT_FAILURES = 5  # per subscription: the newest failed or retrying deliveries
ENTITIES_SHOWN = 8  # per kind and article, the most relevant first
ENTITY_KINDS = ("people", "organisations", "places")
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    # The page has one button that acts: it must not be framed by another site and click-jacked.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
}


def _publisher() -> Publisher:
    return current_app.extensions["newsflow"]


# view model (pure)


def article_row(article_id: str, published_ts: float, article: dict) -> dict:
    """A published article (`{"data": <ninjs>, "enrichment": ...}`) as the console lists it: headline, its most
    relevant entities (relevance from the enrichment), its topics."""
    item, extra = article["data"], article.get("enrichment") or {}
    headlines = [h["value"] for h in item.get("headlines", []) if h.get("role") == "main"]
    entities = {
        kind: [e["name"] for e in sorted(extra.get(kind, []), key=lambda e: -e.get("relevance", 0))][:ENTITIES_SHOWN]
        for kind in ENTITY_KINDS
    }
    topics = sorted(item.get("subjects", []), key=lambda s: -s.get("relevance", 0))
    return {
        "id": article_id,
        "version": item.get("version"),
        "headline": headlines[0] if headlines else "(no headline)",
        "published_at": iso(published_ts),
        "source": ", ".join(source["name"] for source in item.get("infosources", [])),
        "language": item.get("language"),
        "entities": entities,
        "topics": [{"code": t["literal"], "name": t["name"]} for t in topics],
    }


def delivery_row(delivery: Delivery) -> dict:
    """A delivery in one line: its status, how many attempts, and what went wrong last."""
    last = delivery.attempts[-1] if delivery.attempts else {}
    return {
        "id": delivery.id,
        "article_id": delivery.article_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "created_ts": delivery.created_ts,
        "attempts": len(delivery.attempts),
        "last_attempt_at": last.get("at"),
        "last_status_code": last.get("status_code"),
        "last_error": last.get("error") or delivery.error,
        "next_attempt_at": None if delivery.final else delivery.next_attempt_at,
    }


def newest_rows(deliveries: Iterable[Delivery], limit: int = RECENT_FAILURES) -> list[dict]:
    """The newest `limit` deliveries as rows, newest first (they come from several status logs)."""
    rows = [delivery_row(d) for d in deliveries]
    return sorted(rows, key=lambda row: -row["created_ts"])[:limit]


def cross_site(fetch_site: str | None, origin: str | None, host: str) -> bool:
    """Whether a request was sent by another site's page. A browser attaches the Basic credentials it holds
    to every request to this origin, a form posted from any other site included, so the credentials alone
    do not show that the operator meant it. Browsers label requests with Sec-Fetch-Site (current ones) or at
    least Origin (on a POST); a client sending neither is no browser, so no other page can be driving it."""
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    if origin is not None:
        return origin == "null" or urlsplit(origin).netloc != host
    return False


# entrypoints


@bp.before_request
def _basic_auth() -> None:
    auth = request.authorization
    password = auth.password if auth is not None and auth.type == "basic" else None
    if not password or key_lookup(_publisher().settings.publish_api_keys)(password) is None:
        raise Problem(
            401,
            "Unauthorized",
            "Log in with any user name and the publish API key as the password.",
            headers={"WWW-Authenticate": 'Basic realm="newsflow"'},
        )


@bp.after_request
def _page_headers(response: Response) -> Response:
    response.headers.update(PAGE_HEADERS)
    return response


def _subscription_rows(p: Publisher) -> list[dict]:
    return [
        {**view, "failures": newest_rows(queries.failing_deliveries(p, view["id"], RECENT_FAILURES))}
        for view in subscriptions.subscription_views(p)
    ]


def _render(notice: dict | None = None, status: int = 200) -> tuple[str, int]:
    p = _publisher()
    page = render_template(
        "console.html",
        now=iso(time.time()),
        counts=queries.state_counts(p),
        queues={queue: p.queue_depth(queue) for queue in QUEUES},
        articles=[article_row(*found) for found in queries.recent_articles(p, RECENT_ARTICLES)],
        subscriptions=_subscription_rows(p),
        notice=notice,
    )
    return page, status


@bp.get("")
def page():
    redelivered = request.args.get("redelivered")
    try:
        notice = {"redelivered": delivery_row(queries.delivery(_publisher(), redelivered))} if redelivered else None
    except NotFound:
        notice = None
    return _render(notice)


@bp.post("/deliveries/<delivery_id>/redeliver")
def redeliver(delivery_id: str):
    if cross_site(request.headers.get("Sec-Fetch-Site"), request.headers.get("Origin"), request.host):
        raise Problem(403, "Forbidden", "Cross-site request refused: redeliver from the console page itself.")
    try:
        redeliver_now(_publisher(), delivery_id)
    except NotFound as exc:
        return _render({"error": str(exc)}, 404)
    except Conflict as exc:
        return _render({"error": str(exc)}, 409)
    # Post-redirect-get: a reload shows the delivery's state now instead of posting again.
    return redirect(url_for(".page", redelivered=delivery_id), 303)
