"""Re-enqueue articles stuck past their deadline (the queue is a hint, the store the truth), and delete
articles past their retention."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from shared.contracts import ArticleState, Task
from shared.store import ArticleStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweeper:
    """What the sweep is given, wired once per process by `services.scheduler.bootstrap.bootstrap`."""

    store: ArticleStore
    send_task: Callable[[str, list], None]  # (task name, its arguments): onto the broker
    interval_s: float  # SWEEP_INTERVAL_S
    retention_s: float  # ARTICLE_RETENTION_S


def sweep(s: Sweeper) -> int:
    """Re-enqueue what is stuck (an enriched article back into the publish outbox the delivery engines drain) and
    delete what is past retention; the number re-enqueued."""
    if not s.store.take_sweep_turn(s.interval_s):  # another scheduler swept within this interval
        return 0
    stuck = s.store.overdue()
    for article in stuck:
        if article.state != ArticleState.ENRICHED:  # received or enriching: enrich it (again)
            s.send_task(Task.ENRICH_ARTICLE, [article.article_id, article.version])
        log.warning("re-enqueued %s v%s stuck in %s", article.article_id, article.version, article.state)
    s.store.hand_to_publish([(a.article_id, a.version) for a in stuck if a.state == ArticleState.ENRICHED])
    expired = s.store.expire_published(time.time() - s.retention_s)
    if expired:
        log.info("deleted %d article(s) past retention", expired)
    return len(stuck)
