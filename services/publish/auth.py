"""Who is calling the publish API (pure): an operator or a consumer, and how consumer keys are made and checked.

A consumer key is `nfc_<key id>.<secret>`: the key id names the stored record (and the key in the audit log and
the API), the secret is 32 random bytes. Only the SHA-256 of the whole key is stored: a key this random needs no
slow hash, and the comparison with the stored digest is constant-time (hmac.compare_digest).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

OPERATOR, CONSUMER = "operator", "consumer"
KEY_PREFIX = "nfc_"


@dataclass(frozen=True)
class Principal:
    """The caller of one request. `name`: the operator key's name, or the consumer key's id."""

    kind: str
    name: str
    consumer_id: str | None = None
    rate_limit: float | None = None  # requests per second; None: PUBLISH_RATE_LIMIT

    @property
    def operator(self) -> bool:
        return self.kind == OPERATOR

    def owns(self, resource: dict) -> bool:
        """Whether this caller may see `resource` (a subscription): operators see all, consumers their own."""
        return self.operator or resource.get("consumer_id") == self.consumer_id

    def actor(self) -> dict:
        """How the audit log names this caller (never with the key)."""
        return {"kind": self.kind, "name": self.name, "consumer_id": self.consumer_id}


def new_key() -> tuple[str, str]:
    """(key id, the key): shown to the consumer once, then only its digest is kept."""
    key_id = "key_" + secrets.token_hex(8)
    return key_id, f"{KEY_PREFIX}{key_id}.{secrets.token_urlsafe(32)}"


def key_id_of(presented: str) -> str | None:
    """The key id a presented consumer key claims, or None when it is not shaped like one."""
    if not presented.startswith(KEY_PREFIX):
        return None
    key_id, sep, secret = presented.removeprefix(KEY_PREFIX).partition(".")
    return key_id if sep and key_id.startswith("key_") and secret else None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def matches(presented: str, stored_digest: str) -> bool:
    """Constant-time: how long it takes says nothing about how much of the key was right."""
    return hmac.compare_digest(digest(presented).encode(), stored_digest.encode())
