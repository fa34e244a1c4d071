"""A local webhook receiver for trying Newsflow out: verifies each delivery's signature with
`standardwebhooks` and prints the article it carries.

    python scripts/receive_webhooks.py --port 9000 --secret whsec_...
"""

from __future__ import annotations

import argparse
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


def handler_for(webhook: Webhook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            try:
                event = webhook.verify(body, dict(self.headers.items()))
            except WebhookVerificationError as exc:
                print(f"REJECTED {self.headers.get('webhook-id')}: {exc}", flush=True)
                self.send_response(400)
                self.end_headers()
                return
            article = event["data"]
            print(f"{event['type']} {self.headers['webhook-id']} (signature verified)", flush=True)
            print(f"  {article['headlines'][0]['value']}")
            for kind in ("people", "organisations", "places", "subjects"):
                print(f"  {kind}: {', '.join(e['name'] for e in article.get(kind, []))}")
            print(f"  keywords: {', '.join(article.get('keywords', []))}", flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", required=True, help="the subscription's whsec_ secret")
    args = parser.parse_args()
    server = HTTPServer(("127.0.0.1", args.port), handler_for(Webhook(args.secret)))
    print(f"listening on http://127.0.0.1:{args.port}/", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
