"""Times as the APIs, webhooks and logs write them."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(ts: float) -> str:
    """Unix time as ISO 8601 UTC with milliseconds and a Z: 2026-11-24T09:30:00.000Z."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
