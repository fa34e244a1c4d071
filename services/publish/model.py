"""The delivery as the use cases pass it around (pure): one webhook of one article version to one subscription."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace

from shared.contracts import DeliveryStatus
from shared.times import iso

# stored only when set, so a delivery's JSON carries what it always carried
_OPTIONAL = ("replay_id", "error", "redeliver", "request_id", "accepted_ts")


@dataclass(frozen=True)
class Delivery:
    id: str  # the webhook-id, the same on every attempt
    subscription_id: str
    article_id: str
    version: int
    event_type: str
    status: str = DeliveryStatus.PENDING
    created_ts: float = 0.0
    created_at: str | None = None
    next_attempt_ts: float | None = None
    next_attempt_at: str | None = None
    attempts: tuple[dict, ...] = ()
    replay_id: str | None = None
    error: str | None = None  # why it failed without an attempt
    redeliver: bool = False  # a manual redelivery: one attempt, not a schedule
    request_id: str | None = None  # the ingest request behind it, for its log lines
    accepted_ts: float | None = None  # when ingest accepted the article version (accept-to-delivered latency)

    @classmethod
    def from_dict(cls, data: dict) -> Delivery:
        values = {k: v for k, v in data.items() if k in _FIELDS and v is not None}
        return cls(**{**values, "attempts": tuple(data.get("attempts") or ())})

    def as_dict(self) -> dict:
        """As stored (shallow: `dataclasses.asdict` deep-copies every attempt, for nothing)."""
        data = {name: getattr(self, name) for name in _FIELDS}
        data["attempts"] = list(self.attempts)
        return {k: v for k, v in data.items() if k not in _OPTIONAL or v}

    @property
    def final(self) -> bool:
        return self.status in DeliveryStatus.FINAL

    def due_at(self, when: float | None, **changes) -> Delivery:
        """This delivery with its next attempt at `when` (None: no further attempt) and any other changes."""
        return replace(self, next_attempt_ts=when, next_attempt_at=iso(when) if when is not None else None, **changes)


_FIELDS = tuple(f.name for f in fields(Delivery))


def to_json(delivery: Delivery) -> str:
    """As stored in Redis."""
    return json.dumps(delivery.as_dict())


def from_json(data: str | None) -> Delivery | None:
    return Delivery.from_dict(json.loads(data)) if data else None
