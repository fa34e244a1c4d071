"""How the publish API knows its caller: the bearer key's principal (shared/web.py's guard asks `lookup`),
operator-only routes, the per-consumer rate limit, and the audit record of every change that succeeded."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

from flask import Flask, Response, current_app, g, request

from services.publish import audit, consumers
from services.publish.auth import Principal
from services.publish.publisher import Publisher
from shared.ratelimit import RateLimiter
from shared.web import Problem, key_lookup

CHANGES = ("POST", "PATCH", "PUT", "DELETE")
AUDITED_BLUEPRINTS = ("publish", "admin", "portal")


def principal() -> Principal:
    return g.principal


def operator_only(view: Callable) -> Callable:
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        if not principal().operator:
            raise Problem(403, "Forbidden", "This needs an operator key; consumer keys cannot use it.")
        return view(*args, **kwargs)

    return guarded


def lookup(p: Publisher) -> Callable[[str], Principal | None]:
    operators = key_lookup(p.settings.publish_api_keys)
    return lambda presented: consumers.authenticate(p, operators, presented)


def install_access(app: Flask) -> None:
    """After the bearer guard: rate-limit consumers; after each successful change: audit it. (The portal, whose
    sessions the bearer guard does not see, calls `rate_limit` itself once it knows the consumer.)"""
    app.extensions["rate_limiters"] = {}
    app.before_request(rate_limit)
    app.after_request(_audit)


def rate_limit() -> None:
    """429 for a consumer over its rate (its own `rate_limit`, else PUBLISH_RATE_LIMIT); operators pass."""
    who = g.get("principal")
    if who is None or who.operator:
        return
    p: Publisher = current_app.extensions["newsflow"]
    rate = who.rate_limit or p.settings.publish_rate_limit
    limiters: dict[float, RateLimiter] = current_app.extensions["rate_limiters"]
    if rate not in limiters:
        limiters[rate] = RateLimiter(p.repo.redis, rate, max(1, math.ceil(2 * rate)), "nf:publish-ratelimit:")
    wait = limiters[rate].take(who.consumer_id)
    if wait:
        raise Problem(
            429, "Too Many Requests", f"This consumer's rate limit is reached; retry in {wait} s.",
            headers={"Retry-After": str(wait)},
        )  # fmt: skip


def _audit(response: Response) -> Response:
    who = g.get("principal")
    if request.method not in CHANGES or response.status_code >= 400 or who is None:
        return response
    if request.blueprint not in AUDITED_BLUEPRINTS:
        return response
    target = dict(request.view_args or {})
    created = response.get_json(silent=True) if response.status_code == 201 else None
    if isinstance(created, dict) and "id" in created:
        target["id"] = created["id"]
    action = request.endpoint.split(".")[-1]
    audit.record(current_app.extensions["newsflow"], who, action, target, _changes())
    return response


def _changes() -> dict:
    """What the request asked for: its JSON body or form fields (neither carries a key or secret; the portal's
    sign-in form does, and is never audited, but `key` is dropped here all the same)."""
    body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    return {name: value for name, value in body.items() if name != "key"} if isinstance(body, dict) else {}
