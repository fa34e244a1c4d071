"""Re-enqueue articles stuck past their deadline: the queue is a hint, the store the truth."""

from __future__ import annotations

import logging
from collections.abc import Callable

from shared.store import ENRICHED, ArticleStore

log = logging.getLogger(__name__)

NEXT_TASK = {"received": "enrich.article", "enriching": "enrich.article", ENRICHED: "publish.article"}


def sweep(store: ArticleStore, send_task: Callable[[str, list], None], interval_s: float) -> int:
    if not store.take_sweep_turn(interval_s):  # another scheduler swept within this interval
        return 0
    stuck = store.overdue()
    for article in stuck:
        send_task(NEXT_TASK[article.state], [article.article_id, article.version])
        log.warning("re-enqueued %s v%s stuck in %s", article.article_id, article.version, article.state)
    return len(stuck)
