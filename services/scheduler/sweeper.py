"""Re-enqueue articles stuck past their deadline (the queue is a hint, the store the truth), and delete
articles past their retention."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from shared.store import ENRICHED, ArticleStore

log = logging.getLogger(__name__)

NEXT_TASK = {"received": "enrich.article", "enriching": "enrich.article"}


def sweep(store: ArticleStore, send_task: Callable[[str, list], None], interval_s: float, retention_s: float) -> int:
    """Re-enqueue what is stuck (an enriched article back into the publish outbox the delivery engines drain) and
    delete what is past retention; the number re-enqueued."""
    if not store.take_sweep_turn(interval_s):  # another scheduler swept within this interval
        return 0
    stuck = store.overdue()
    for article in stuck:
        if article.state != ENRICHED:
            send_task(NEXT_TASK[article.state], [article.article_id, article.version])
        log.warning("re-enqueued %s v%s stuck in %s", article.article_id, article.version, article.state)
    store.hand_to_publish([(a.article_id, a.version) for a in stuck if a.state == ENRICHED])
    expired = store.expire_published(time.time() - retention_s)
    if expired:
        log.info("deleted %d article(s) past retention", expired)
    return len(stuck)
