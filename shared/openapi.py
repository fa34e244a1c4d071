"""OpenAPI 3 documents generated from the marshmallow schemas (apispec), served at /openapi.json, and
Swagger UI reading them at /docs (its files come with the flask-swagger-ui package: no CDN)."""

from __future__ import annotations

from dataclasses import dataclass, field

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint
from flask_swagger_ui import get_swaggerui_blueprint
from marshmallow import Schema

from shared.schemas import Problem

PROBLEM_JSON = "application/problem+json"
REASONS = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Malformed JSON",
    401: "Missing or unknown API key", 404: "Not found", 409: "Conflict", 413: "Body too large",
    415: "Not JSON", 422: "Validation failed; `errors` names each field", 429: "Rate limited; see Retry-After",
    503: "Overloaded or storage unavailable; see Retry-After",
}  # fmt: skip


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    summary: str
    responses: dict[int, type[Schema] | None]  # None: no body; errors (>= 400) are always problem+json
    body: type[Schema] | None = None
    example: dict | None = None  # a valid request body, shown (and sent by "Try it out") in /docs
    parameters: list[dict] = field(default_factory=list)
    public: bool = False


# Refused by gunicorn before the app sees the request (gunicorn.conf.py limits), so not problem+json.
FROM_GUNICORN = {414: "URI Too Long: the request line is over 8190 bytes (answered by gunicorn, as text/html)"}


def _responses(op: Operation) -> dict:
    out = {}
    for status, schema in op.responses.items():
        response: dict = {"description": FROM_GUNICORN.get(status) or REASONS.get(status, str(status))}
        if status >= 400 and status not in FROM_GUNICORN:
            response["content"] = {PROBLEM_JSON: {"schema": Problem}}
        elif status < 400 and schema is not None:
            response["content"] = {"application/json": {"schema": schema}}
        out[str(status)] = response
    return out


def build_spec(title: str, description: str, operations: list[Operation]) -> dict:
    description += "\n\nEvery `/v1` route needs `Authorization: Bearer <key>`: press **Authorize** to send it."
    spec = APISpec(title=title, version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
                   info={"description": description})  # fmt: skip
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict] = {}
    for op in operations:
        operation = {"summary": op.summary, "responses": _responses(op), "parameters": op.parameters}
        if op.body is not None:
            content = {"schema": op.body, **({"example": op.example} if op.example is not None else {})}
            operation["requestBody"] = {"required": True, "content": {"application/json": content}}
        operation["security"] = [] if op.public else [{"bearer": []}]
        paths.setdefault(op.path, {})[op.method] = operation
    for path, operations_of_path in paths.items():
        spec.path(path=path, operations=operations_of_path)
    return spec.to_dict()


def path_parameter(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


HEALTH = [
    Operation("/healthz", "get", "The process is up", {200: None}, public=True),
    Operation("/readyz", "get", "Redis is reachable", {200: None, 503: None}, public=True),
    Operation("/metrics", "get", "Prometheus metrics", {200: None}, public=True),
]


def openapi_blueprint(spec: dict) -> Blueprint:
    """/openapi.json, and Swagger UI at /docs/ (/docs redirects there) with its files under /docs/."""
    bp = Blueprint("openapi", __name__)

    @bp.get("/openapi.json")
    def document():
        return spec

    config = {"app_name": spec["info"]["title"], "validatorUrl": None}  # None: no badge fetched from the internet
    bp.register_blueprint(get_swaggerui_blueprint("/docs", "/openapi.json", config, blueprint_name="docs"))
    return bp
