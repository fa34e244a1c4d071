"""Standard Webhooks v1 signing, done by the `standardwebhooks` library itself, and secret rotation."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

MAX_PREVIOUS_SECRETS = 3


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def live_secrets(sub: dict, now: float) -> list[str]:
    """The secrets a delivery is signed with: the current one first, then any rotated out within their grace."""
    previous = [p["secret"] for p in sub.get("previous_secrets", []) if p["expires_ts"] > now]
    return [sub["secret"], *previous]


def rotated(sub: dict, new: str, now: float, grace_s: float) -> dict:
    """`sub` with `new` as its secret; the old one keeps signing for `grace_s` seconds."""
    still_live = [p for p in sub.get("previous_secrets", []) if p["expires_ts"] > now]
    previous = [{"secret": sub["secret"], "expires_ts": now + grace_s}, *still_live][:MAX_PREVIOUS_SECRETS]
    return {**sub, "secret": new, "previous_secrets": previous}


def webhook_headers(secret: str | list[str], msg_id: str, body: str, sent_at: float) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt; with several secrets, one `v1,` signature each,
    space-separated, so a receiver holding either secret verifies it."""
    timestamp = datetime.fromtimestamp(int(sent_at), UTC)
    keys = [secret] if isinstance(secret, str) else secret
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at)),
        "webhook-signature": " ".join(Webhook(key).sign(msg_id, timestamp, body) for key in keys),
    }
