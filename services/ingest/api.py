"""HTTP entrypoint of ingest: parse, admit, call the use case, translate."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, g, request, url_for

from services.ingest.bootstrap import Ingest
from services.ingest.idempotency import KeyInFlight, KeyReused
from services.ingest.usecases import Receipt, accept_article, accept_batch
from shared.contracts import ArticleState
from shared.openapi import HEALTH, Operation, path_parameter
from shared.schemas import ArticleIn, ArticleStatus, BatchIn, BatchResult
from shared.schemas import Receipt as ReceiptSchema
from shared.web import Problem, json_body

bp = Blueprint("ingest", __name__, url_prefix="/v1")

IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 255},
    "description": "Retries with the same key get the first response again for 24 h.",
}  # fmt: skip
_ERRORS = {400: None, 401: None, 413: None, 415: None, 422: None, 429: None, 503: None}
EXAMPLE = {
    "title": "Harbour reopens after the storm",
    "body": "The harbour in Porto reopened on Tuesday after two days of gales, the port authority said.",
    "url": "https://news.example.com/2026/harbour-reopens",
    "external_id": "wire-20261124-0042",
    "published_at": "2026-11-24T09:30:00Z",
    "authors": ["Ana Silva"],
}
OPERATIONS = [
    *HEALTH,
    Operation(
        "/v1/articles", "post", "Submit an article", {202: ReceiptSchema, 200: ReceiptSchema, 409: None, **_ERRORS},
        body=ArticleIn, example=EXAMPLE, parameters=[IDEMPOTENCY_HEADER],
    ),
    Operation(
        "/v1/articles/batch", "post", "Submit up to 100 articles; one result each, in order",
        {200: BatchResult, 409: None, **_ERRORS}, body=BatchIn, parameters=[IDEMPOTENCY_HEADER],
        example={"articles": [EXAMPLE, {"title": "Markets open higher", "html": "<p>Shares rose in early trade.</p>"}]},
    ),
    Operation(
        "/v1/articles/{article_id}", "get", "Processing status of an article",
        {200: ArticleStatus, 401: None, 404: None}, parameters=[path_parameter("article_id")],
    ),
]  # fmt: skip


def _ingest() -> Ingest:
    """The adapters bootstrap() wired for this app (services/ingest/app.py)."""
    return current_app.extensions["newsflow"]


def _admit(cost: int) -> None:
    """429 past the key's rate, 503 while the enrich backlog or Redis memory is over its limit (before Redis
    itself would refuse the write): never 202-then-lost."""
    ingest = _ingest()
    wait = ingest.limiter.take(g.principal, cost)
    if wait:
        raise Problem(429, "Too Many Requests", f"Rate limit of this API key reached; retry in {wait} s.",
                      headers={"Retry-After": str(wait)})  # fmt: skip
    if ingest.backlog.full():
        raise Problem(
            503, "Service Unavailable", "The pipeline is behind; retry shortly.", headers={"Retry-After": "5"}
        )
    if ingest.memory.full():
        raise Problem(503, "Service Unavailable", "Storage is nearly full; retry later.", headers={"Retry-After": "30"})


def _idempotent(handle: Callable[[], tuple[dict, int, dict]]):
    """The first 2xx response to an Idempotency-Key answers every retry with that key for 24 h."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return handle()
    if not 0 < len(key) <= 255:
        raise Problem(422, "Unprocessable Content", "Bad Idempotency-Key.", {"Idempotency-Key": ["1-255 characters."]})
    store, body = _ingest().idempotency, request.get_data()
    try:
        replay = store.begin(g.principal, key, body)
    except KeyReused:
        errors = {"Idempotency-Key": ["Already used with a different request body."]}
        raise Problem(422, "Unprocessable Content", "Idempotency-Key reused.", errors) from None
    except KeyInFlight:
        raise Problem(409, "Conflict", "A request with this Idempotency-Key is in progress.",
                      headers={"Retry-After": "1"}) from None  # fmt: skip
    if replay:
        return replay.body, replay.status, {**replay.headers, "Idempotent-Replayed": "true"}
    try:
        response = handle()
    except BaseException:
        store.release(g.principal, key)
        raise
    store.finish(g.principal, key, body, *response)
    return response


def _receipt_body(receipt: Receipt) -> dict:
    link = url_for(".get_article", article_id=receipt.article_id)
    body = {"id": receipt.article_id, "version": receipt.version, "links": {"self": link}}
    if receipt.duplicate:
        return {**body, "status": _ingest().store.status(receipt.article_id)["status"], "duplicate": True}
    return {**body, "status": ArticleState.RECEIVED}


@bp.post("/articles")
def post_article():
    payload = json_body()

    def handle():
        _admit(1)
        receipt = accept_article(_ingest().store, payload, g.principal, g.request_id)
        body = _receipt_body(receipt)
        return (body, 200, {}) if receipt.duplicate else (body, 202, {"Location": body["links"]["self"]})

    return _idempotent(handle)


@bp.post("/articles/batch")
def post_batch():
    items = BatchIn().load(json_body())["articles"]

    def handle():
        _admit(len(items))
        results = []
        for outcome in accept_batch(_ingest().store, items, g.principal, g.request_id):
            if isinstance(outcome, Receipt):
                result = {
                    "status": 200 if outcome.duplicate else 202,
                    "id": outcome.article_id,
                    "version": outcome.version,
                }
                results.append({**result, "duplicate": True} if outcome.duplicate else result)
            else:
                results.append({"status": 422, "errors": outcome})
        return {"results": results}, 200, {}

    return _idempotent(handle)


@bp.get("/articles/<article_id>")
def get_article(article_id: str):
    status = _ingest().store.status(article_id)
    if status is None:
        raise Problem(404, "Not Found", f"No article with id {article_id!r}.")
    return status
