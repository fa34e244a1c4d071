"""OpenAPI 3 documents generated from the marshmallow schemas (apispec), served at /openapi.json, and
Swagger UI reading them at /docs (its files come with the flask-swagger-ui package: no CDN)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint
from flask_swagger_ui import get_swaggerui_blueprint
from marshmallow import Schema
from werkzeug.exceptions import NotFound

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


def build_spec(
    title: str, description: str, operations: list[Operation], json_schemas: dict[str, dict] | None = None
) -> dict:
    """`json_schemas`: JSON Schemas the service publishes (name -> schema), each also an OpenAPI component under
    its name capitalised, which a marshmallow field refers to with `metadata={"component": "Name"}`."""
    description += "\n\nEvery `/v1` route needs `Authorization: Bearer <key>`: press **Authorize** to send it."
    plugin = MarshmallowPlugin()
    spec = APISpec(title=title, version="1", openapi_version="3.0.3", plugins=[plugin],
                   info={"description": description})  # fmt: skip
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, schema in (json_schemas or {}).items():
        for component, definition in openapi_components(name.capitalize(), schema).items():
            spec.components.schema(component, component=definition)
    plugin.converter.add_attribute_function(_component_ref)
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


def openapi_components(name: str, schema: dict) -> dict[str, dict]:
    """A JSON Schema (draft 2020-12, written with the keywords OpenAPI 3.0 also knows) as OpenAPI components:
    itself under `name`, each of its `$defs` under its own name, references rewritten."""
    converted = json.loads(json.dumps(schema).replace('"#/$defs/', '"#/components/schemas/'))
    definitions = converted.pop("$defs", {})
    return {name: {k: v for k, v in converted.items() if k not in ("$schema", "$id")}, **definitions}


def _component_ref(self, field, **kwargs) -> dict:
    """A marshmallow field with `metadata={"component": name}` is that component (a published JSON Schema)."""
    name = field.metadata.get("component")
    return {"$ref": f"#/components/schemas/{name}"} if name else {}


def path_parameter(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


HEALTH = [
    Operation("/healthz", "get", "The process is up", {200: None}, public=True),
    Operation("/readyz", "get", "Redis is reachable", {200: None, 503: None}, public=True),
    Operation("/metrics", "get", "Prometheus metrics", {200: None}, public=True),
]


def openapi_blueprint(spec: dict, json_schemas: dict[str, dict] | None = None) -> Blueprint:
    """/openapi.json, Swagger UI at /docs/ (/docs redirects there) with its files under /docs/, and each
    published JSON Schema at /schemas/<name>.json, all public."""
    bp = Blueprint("openapi", __name__)
    by_name = json_schemas or {}

    @bp.get("/openapi.json")
    def document():
        return spec

    @bp.get("/schemas/<name>.json")
    def json_schema_document(name: str):
        if name not in by_name:
            raise NotFound()
        return by_name[name], 200, {"Content-Type": "application/schema+json"}

    config = {"app_name": spec["info"]["title"], "validatorUrl": None}  # None: no badge fetched from the internet
    bp.register_blueprint(get_swaggerui_blueprint("/docs", "/openapi.json", config, blueprint_name="docs"))
    return bp


def json_schema(name: str) -> dict:
    """A JSON Schema (draft 2020-12) the project ships as `shared/<name>.schema.json`."""
    return json.loads(resources.files("shared").joinpath(f"{name}.schema.json").read_text(encoding="utf-8"))
