"""Hands accepted articles to the enrich queue, off the request path.

A request only writes the article and its outbox entry (one Redis script); this thread, one per
gunicorn worker, publishes what the outbox holds in batches, so a burst of single POSTs costs one
broker round trip per batch instead of one per article. Whatever is lost between the outbox and
the queue (a crash, a broker outage) is re-enqueued by the sweeper at the article's deadline.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from shared.store import ArticleStore

log = logging.getLogger(__name__)

BATCH = 100


class Dispatcher(threading.Thread):
    def __init__(self, store: ArticleStore, enqueue: Callable[[list[tuple[str, int, str]]], None], wait_s: float = 1.0):
        super().__init__(name="outbox-dispatcher", daemon=True)
        self.store, self.enqueue, self.wait_s = store, enqueue, wait_s
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.dispatch_once()

    def dispatch_once(self) -> int:
        """Publish one batch from the outbox; the number of articles handed over."""
        jobs: list[tuple[str, int, str]] = []
        try:
            jobs = self.store.take_outbox(BATCH, self.wait_s)
            if jobs:
                self.enqueue(jobs)
            return len(jobs)
        except Exception:  # Redis or the broker is away: back off; the sweeper covers what was taken
            log.warning("outbox dispatch failed (%d article(s) left to the sweeper)", len(jobs), exc_info=True)
            self.stopping.wait(1.0)
            return 0

    def stop(self) -> None:
        self.stopping.set()
