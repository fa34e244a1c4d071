"""`article.test`: a fixed sample article sent to one subscription now, signed like every webhook, so a consumer
can check its receiver. Sent at once from the request (not through the delivery log) and never retried."""

from __future__ import annotations

import asyncio
import json
import secrets
import time

from services.publish.delivery import Attempt, post
from services.publish.publisher import Publisher
from services.publish.signing import live_secrets, webhook_headers
from services.publish.transport import webhook_client
from shared.contracts import EventType
from shared.times import iso

SAMPLE_ARTICLE = {  # a valid IPTC ninjs 2.2 document, written for this purpose
    "uri": "urn:newsflow:article:sample",
    "version": "1",
    "type": "text",
    "language": "en",
    "firstcreated": "2026-01-01T09:00:00Z",
    "versioncreated": "2026-01-01T09:00:00Z",
    "headlines": [{"role": "main", "value": "Harbour town opens its new lifeboat station"}],
    "bodies": [
        {
            "role": "main",
            "contenttype": "text/plain",
            "value": "The new lifeboat station opened on Monday. Volunteers showed visitors the boats.",
            "wordcount": 12,
            "charcount": 80,
        }
    ],
    "descriptions": [{"role": "summary", "value": "The new lifeboat station opened on Monday."}],
    "infosources": [{"name": "Newsflow sample"}],
}


def sample_body(now: float) -> str:
    return json.dumps({"type": EventType.TEST, "timestamp": iso(now), "data": SAMPLE_ARTICLE})


def send_test_event(p: Publisher, sub: dict) -> Attempt:
    """One signed POST of the sample article to the subscription's URL; the outcome, as a delivery attempt."""
    now = time.time()
    body = sample_body(now)
    headers = webhook_headers(live_secrets(sub, now), "msg_test_" + secrets.token_hex(10), body, now)
    return asyncio.run(_post(p, sub["url"], body, headers))


async def _post(p: Publisher, url: str, body: str, headers: dict[str, str]) -> Attempt:
    """On a client of its own (the delivery engine's lives in the engine's event loop), with the same SSRF guard."""
    async with webhook_client(p.settings.webhook_allow_private, connections=1) as client:
        return await post(client, url, body, headers, p.settings.webhook_timeout_s)
