"""`Idempotency-Key`: the first response to a key is the response to every retry for 24 h."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import redis

TTL_S = 24 * 3600
IN_FLIGHT_TTL_S = 60  # a request that died mid-way frees its key after this


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict
    headers: dict


class KeyReused(Exception):
    """The key was first used with another request body."""


class KeyInFlight(Exception):
    """The first request with this key is still being processed."""


class IdempotencyStore:
    def __init__(self, client: redis.Redis, prefix: str = "nf:idem:"):
        self.redis, self.prefix = client, prefix

    def _key(self, principal: str, key: str) -> str:
        return self.prefix + hashlib.sha256(f"{principal}\x1f{key}".encode()).hexdigest()

    def begin(self, principal: str, key: str, request_body: bytes) -> Replay | None:
        """None: go ahead (the key is now held). A Replay: answer with it. Raises KeyReused/KeyInFlight."""
        fingerprint = hashlib.sha256(request_body).hexdigest()
        slot = self._key(principal, key)
        if self.redis.set(slot, json.dumps({"fingerprint": fingerprint}), nx=True, ex=IN_FLIGHT_TTL_S):
            return None
        saved = json.loads(self.redis.get(slot) or "{}")
        if saved.get("fingerprint") != fingerprint:
            raise KeyReused
        if "status" not in saved:
            raise KeyInFlight
        return Replay(saved["status"], saved["body"], saved["headers"])

    def finish(self, principal: str, key: str, request_body: bytes, body: dict, status: int, headers: dict) -> None:
        """Keep a success for retries; anything else frees the key (a retry runs again)."""
        if not 200 <= status < 300:
            self.release(principal, key)
            return
        fingerprint = hashlib.sha256(request_body).hexdigest()
        record = {"fingerprint": fingerprint, "status": status, "body": body, "headers": headers}
        self.redis.set(self._key(principal, key), json.dumps(record), ex=TTL_S)

    def release(self, principal: str, key: str) -> None:
        self.redis.delete(self._key(principal, key))
