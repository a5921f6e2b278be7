"""A local webhook receiver, and product histories for webhooks to deliver."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sluice.storage.postgres import connect

DAY = datetime(2026, 9, 1, 8, tzinfo=UTC)


class Receiver:
    """A local HTTP endpoint that refuses the first ``refuse`` posts (500), or all of them."""

    def __init__(self, refuse: int | None = 0) -> None:
        self.refuse = refuse
        self.posts: list[tuple[dict[str, str], bytes, int]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    refused = receiver.refuse is None or len(receiver.posts) < receiver.refuse
                    status = 500 if refused else 204
                    receiver.posts.append((dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self) -> list[tuple[dict[str, str], bytes, dict]]:
        """(headers, body, change) of every post answered 2xx, in the order received."""
        with self.lock:
            return [(h, b, json.loads(b)) for h, b, status in self.posts if status < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def history(settings, source: str, sku: str, steps: list[tuple[str, str]]) -> None:
    """A product of ``source`` whose history has one row per (price, availability) step."""
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        product = conn.execute(
            "INSERT INTO products (source, external_id, name, price, currency, availability, "
            "url, first_seen_at, last_seen_at) VALUES (%s, %s, %s, 1, 'USD', 'in_stock', %s, "
            "%s, %s) RETURNING id",
            (source, sku, f"Hook {sku}", f"http://{source}/{sku}", DAY, DAY),
        ).fetchone()[0]
        for day, (price, availability) in enumerate(steps):
            conn.execute(
                "INSERT INTO product_prices (product_id, price, currency, availability, "
                "observed_at, crawl_id) VALUES (%s, %s, 'USD', %s, %s, 'hooks-test')",
                (product, price, availability, DAY + timedelta(days=day)),
            )
