"""Standard Webhooks v1 signing, done by the `standardwebhooks` library itself."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_headers(secret: str, msg_id: str, body: str, sent_at: float) -> dict[str, str]:
    timestamp = datetime.fromtimestamp(int(sent_at), UTC)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at)),
        "webhook-signature": Webhook(secret).sign(msg_id, timestamp, body),
    }
