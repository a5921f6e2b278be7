"""Serving the demo sites with werkzeug's threaded development server."""

from __future__ import annotations

import logging
import threading
from datetime import date

from werkzeug.serving import make_server, run_simple

from demo.app import create_app
from demo.web.state import EXTENSION

logger = logging.getLogger(__name__)


def serve(
    host: str = "127.0.0.1", port: int = 8000, seed: int = 7, day: date | None = None
) -> None:
    """Serve the shop and the market on ``host:port`` until interrupted.

    Threaded, so the slow product page does not hold up a crawler's other requests.
    """
    app = create_app(seed=seed, day=day)
    logger.info(
        "demo sites on http://%s:%d/shop/ and /market/ (seed %d, day %s)",
        host,
        port,
        seed,
        app.extensions[EXTENSION]["state"].day.isoformat(),
    )
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


class BackgroundServer:
    """The demo sites on a free loopback port in a thread of this process (tests, benchmarks)."""

    def __init__(self, seed: int = 7, day: date | None = None, slow_seconds: float = 1.0) -> None:
        self.app = create_app(seed=seed, day=day, slow_seconds=slow_seconds)
        # One access-log line per crawled page would drown the caller's own output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
