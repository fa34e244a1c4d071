"""What both Flask apps share: problem+json errors, bearer auth, health and metrics."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable

import redis
from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from marshmallow import ValidationError
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from shared.logs import REQUEST_ID, request_id_from, start_context
from shared.metrics import exposition, http_requests
from shared.openapi import openapi_blueprint

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-Id"


class Problem(Exception):
    """An error the client must see as RFC 9457 problem+json."""

    def __init__(self, status: int, title: str, detail: str = "", errors: dict | None = None, headers=None):
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.errors = status, title, detail, errors
        self.headers = headers or {}


def problem_response(status: int, title: str, detail: str = "", errors: dict | None = None, headers=None) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail or title}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    response.headers.update(headers or {})
    return response


def _handle_problem(exc: Problem) -> Response:
    return problem_response(exc.status, exc.title, exc.detail, exc.errors, exc.headers)


def _handle_validation(exc: ValidationError) -> Response:
    errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    # Reads (GET) validate their query string; every other method validates its body.
    part = "query parameters" if request.method in ("GET", "HEAD") else "request body"
    return problem_response(422, "Unprocessable Content", f"The {part} failed validation.", errors)


def _handle_http(exc: HTTPException) -> Response:
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]  # keeps Allow on 405
    return problem_response(exc.code or 500, exc.name, exc.description or exc.name, headers=headers)


# Redis unreachable, timing out, loading its data, read-only after a failover or out of memory (ingest stops
# admitting before that): retry later. Any other Redis error is a bug of ours and goes to the 500 handler.
REDIS_UNAVAILABLE = (
    redis.ConnectionError, redis.TimeoutError, redis.exceptions.ReadOnlyError, redis.exceptions.OutOfMemoryError
)  # fmt: skip


def _handle_redis_down(exc: redis.RedisError) -> Response:
    log.error("redis unavailable on %s %s: %s", request.method, request.path, exc)
    return problem_response(
        503, "Service Unavailable", "Storage is unavailable; retry shortly.", headers={"Retry-After": "5"}
    )


def _handle_unexpected(exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem_response(500, "Internal Server Error", "An unexpected error occurred; it has been logged.")


def json_body() -> dict:
    """The request's JSON object, or the right problem: 415 not JSON, 400 malformed, 422 not an object."""
    if not request.is_json:
        raise Problem(415, "Unsupported Media Type", "Send the body as application/json.")
    try:
        data = json.loads(request.get_data())
        json.dumps(data, ensure_ascii=False).encode()  # lone surrogates cannot be stored or sent on
    except (ValueError, UnicodeError):
        raise Problem(400, "Bad Request", "The body is not valid JSON in UTF-8.") from None
    if not isinstance(data, dict):
        raise Problem(
            422, "Unprocessable Content", "The body must be a JSON object.", {"_schema": ["Expected an object."]}
        )
    return data


# Query parameters that would carry a key in the URL, where proxies, browser history and access logs keep it.
KEY_PARAMETERS = frozenset({"api_key", "apikey", "api-key", "key", "token", "access_token", "auth"})


def bearer_guard(lookup: Callable[[str], object | None]) -> Callable[[], None]:
    """A before_request hook admitting requests whose bearer key `lookup` knows; sets g.principal (what
    `lookup` returned: ingest's key name, publish's Principal). A key in the query string is refused outright."""

    def guard() -> None:
        if KEY_PARAMETERS & {name.lower() for name in request.args}:
            raise Problem(
                401,
                "Unauthorized",
                "API keys are never accepted in the URL (it ends up in logs); send 'Authorization: Bearer <key>'.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if request.endpoint is None or request.endpoint.startswith(("health.", "openapi.", "console.", "portal.")):
            return
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        principal = lookup(key.strip()) if scheme.lower() == "bearer" and key.strip() else None
        if principal is None:
            raise Problem(
                401,
                "Unauthorized",
                "Send a valid API key as 'Authorization: Bearer <key>'.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        g.principal = principal

    return guard


def key_lookup(keys: dict[str, str]) -> Callable[[str], str | None]:
    """Constant-time lookup of a presented key in {key: name}."""

    def lookup(presented: str) -> str | None:
        found = None
        for key, name in keys.items():
            if hmac.compare_digest(key.encode(), presented.encode()):
                found = name
        return found

    return lookup


def health_blueprint(ping: Callable[[], bool], collector: Collector | None = None) -> Blueprint:
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @bp.get("/readyz")
    def readyz():
        if ping():
            return {"status": "ready"}
        return problem_response(503, "Service Unavailable", "Redis is not reachable.")

    @bp.get("/metrics")
    def metrics():
        return Response(exposition(collector), mimetype=CONTENT_TYPE_LATEST)

    return bp


def install_common(
    app: Flask,
    service: str,
    ping: Callable[[], bool],
    lookup: Callable[[str], object | None],
    spec: dict | None = None,
    collector: Collector | None = None,
    json_schemas: dict[str, dict] | None = None,
) -> None:
    """`collector`: the pipeline metrics this service serves at /metrics beside its HTTP counter;
    `json_schemas`: JSON Schemas it publishes at /schemas/<name>.json."""
    app.register_blueprint(health_blueprint(ping, collector))
    if spec is not None:
        app.register_blueprint(openapi_blueprint(spec, json_schemas))
    app.before_request(_start_request)  # first, so even a 401 carries a request id
    app.before_request(_refuse_oversized)
    app.before_request(bearer_guard(lookup))
    app.register_error_handler(Problem, _handle_problem)
    app.register_error_handler(ValidationError, _handle_validation)
    app.register_error_handler(HTTPException, _handle_http)
    for unavailable in REDIS_UNAVAILABLE:
        app.register_error_handler(unavailable, _handle_redis_down)
    app.register_error_handler(Exception, _handle_unexpected)

    @app.after_request
    def count(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        http_requests.labels(service, route, str(response.status_code)).inc()
        if REQUEST_ID in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response


def limit_body(app: Flask, limit: int, setting: str) -> None:
    """Bodies over `limit` bytes are refused with a 413 naming the limit and its `setting`, on every route, chunked
    or not (`_refuse_oversized`)."""
    app.config["MAX_CONTENT_LENGTH"] = limit
    detail = f"The body is over the limit of {limit} bytes ({setting})."
    app.register_error_handler(413, lambda _: problem_response(413, "Content Too Large", detail))


def _refuse_oversized() -> None:
    """A body over MAX_CONTENT_LENGTH is refused on every route, before auth, whether or not the route reads a
    body (werkzeug's own check only fires when the body is read). A declared length is checked unread. A chunked
    body has none, and Werkzeug stops reading it at the limit without saying so (the JSON would then look cut
    off): it is read one byte past the limit to tell."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is None:
        return
    if request.content_length is None:
        request.max_content_length = limit + 1
        if len(request.get_data()) > limit:
            raise RequestEntityTooLarge()
    elif (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()


def _start_request() -> None:
    """Take the client's X-Request-Id (or make one): it goes back on the response, onto every log line of
    the request, and into the headers of the tasks the request sends."""
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    start_context(request_id=g.request_id)
