"""A webhook receiver for trying notifications locally.

``python -m tools.devhost.receiver --port 9000 --secret whsec_...`` answers every POST
with 200 after verifying its Standard Webhooks signature (with the
independent ``standardwebhooks`` package), and prints each notice. A notice
that fails verification gets 401 and is retried by the app.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.devhost.receiver", description=__doc__)
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", required=True, help="the subscription's whsec_ secret")
    args = parser.parse_args(argv)
    webhook = Webhook(args.secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                event: Any = webhook.verify(body, dict(self.headers.items()))
            except WebhookVerificationError as exc:
                print(f"rejected {self.headers.get('webhook-id')}: {exc}", file=sys.stderr)
                self.send_response(HTTPStatus.UNAUTHORIZED)
            else:
                print(f"verified {self.headers.get('webhook-id')}: {json.dumps(event)}")
                self.send_response(HTTPStatus.OK)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the verified/rejected lines say what matters."""

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on http://127.0.0.1:{args.port}/ (Ctrl-C stops)", file=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
