"""Wire the real adapters into an Enricher, once per process."""

from __future__ import annotations

from services.enrich.pipeline import enrich
from services.enrich.usecases import Enricher
from shared.config import Settings
from shared.store import ArticleStore, connect


def bootstrap(settings: Settings) -> Enricher:
    store = ArticleStore(connect(settings.redis_url), settings.stuck_after_s, keep_raw=settings.keep_raw)
    return Enricher(store=store, pipeline=enrich)
