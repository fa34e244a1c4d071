"""HTTP entrypoint of ingest: parse, call the use case, translate."""

from __future__ import annotations

from flask import Blueprint, current_app, g, url_for

from services.ingest.usecases import accept_article
from shared.web import Problem, json_body

bp = Blueprint("ingest", __name__, url_prefix="/v1")


@bp.post("/articles")
def post_article():
    ctx = current_app.extensions["newsflow"]
    receipt = accept_article(ctx.store, ctx.enqueue, json_body(), source=g.principal)
    link = url_for(".get_article", article_id=receipt.article_id)
    body = {"id": receipt.article_id, "version": receipt.version, "links": {"self": link}}
    if receipt.duplicate:
        return {**body, "status": ctx.store.status(receipt.article_id)["status"], "duplicate": True}, 200
    return {**body, "status": "received"}, 202, {"Location": link}


@bp.get("/articles/<article_id>")
def get_article(article_id: str):
    status = current_app.extensions["newsflow"].store.status(article_id)
    if status is None:
        raise Problem(404, "Not Found", f"No article with id {article_id!r}.")
    return status
