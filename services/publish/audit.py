"""The audit log: who (a key's name or id, never the key) changed what, and when; kept AUDIT_RETENTION_S."""

from __future__ import annotations

import logging
import time

from services.publish.auth import Principal
from services.publish.consumers import access
from services.publish.publisher import Publisher
from shared.times import iso

log = logging.getLogger(__name__)


def record(p: Publisher, who: Principal, action: str, target: dict, changes: dict) -> None:
    """`action`: what was done (e.g. `create_subscription`); `target`: the ids it was done to; `changes`: the
    fields the request gave (e.g. `{"enabled": false}`)."""
    entry = {"at": iso(time.time()), "actor": who.actor(), "action": action, "target": target, "changes": changes}
    access(p).append_audit(entry, p.settings.audit_retention_s)
    log.info("audit: %s %s by %s %s", action, target, who.kind, who.name)


def audit_page(p: Publisher, limit: int, cursor: str | None) -> dict:
    """Newest first. Raises ValueError for a cursor we did not hand out."""
    items, next_cursor = access(p).audit_page(limit, cursor)
    return {"items": items, "next_cursor": next_cursor}
