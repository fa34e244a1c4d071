"""`newsflow listen`: a local webhook receiver that verifies each delivery's signature with
`standardwebhooks` and prints the article it carries."""

from __future__ import annotations

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks import Webhook, WebhookVerificationError
from standardwebhooks.webhooks import EmptyWebhookSecretError

from services.cli.formatting import webhook_event


def verifier(secret: str) -> Webhook:
    """The verifier for a subscription's secret; ValueError unless it is whsec_ + base64."""
    if secret.startswith("whsec_"):
        try:
            return Webhook(secret)
        except (ValueError, EmptyWebhookSecretError):
            pass
    raise ValueError("expected the subscription's signing secret: whsec_ followed by base64.")


def receiver(host: str, port: int, webhook: Webhook, show: Callable[[str, bool], None], full: bool) -> HTTPServer:
    """An HTTP server answering 204 to a verified delivery, shown with `show(text, False)`, and 400 to
    one that fails verification, shown with `show(reason, True)`."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            webhook_id = self.headers.get("webhook-id", "(no webhook-id)")
            try:
                payload = webhook.verify(body, dict(self.headers.items()))
            except (WebhookVerificationError, ValueError) as exc:
                show(f"REJECTED {webhook_id}: {exc or type(exc).__name__}", True)
                self.send_response(400)
            else:
                show(webhook_event(payload, webhook_id, full), False)
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    return HTTPServer((host, port), Handler)
