"""Serving the demo sites with werkzeug's threaded development server."""

from __future__ import annotations

import logging
from datetime import date

from werkzeug.serving import run_simple

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
