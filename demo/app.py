"""The Flask app serving both demo sites (shop and market) on one origin."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask, Response, request

from demo.catalog import Catalog
from demo.market import Market
from demo.web import control, errors, market, shop, templates
from demo.web.state import EXTENSION, DemoState, state

DEFAULT_SLOW_SECONDS = 1.5
ROBOTS_TXT = "User-agent: *\nDisallow: /shop/private/\n"


def create_app(
    seed: int = 7, day: date | None = None, *, slow_seconds: float = DEFAULT_SLOW_SECONDS
) -> Flask:
    """The demo sites for ``seed``, showing ``day`` (today, UTC, when None) until switched.

    ``slow_seconds`` is how long the slow product page (``Catalog.SLOW_SKU``) waits before
    answering; it is ``app.config["SLOW_SECONDS"]`` and can be changed on the app too.
    """
    # No static folder: every asset is generated, and a /static route would be a stray URL.
    app = Flask(__name__, static_folder=None)
    app.config["SLOW_SECONDS"] = slow_seconds
    app.config["DEMO_SEED"] = seed
    app.jinja_loader = templates.loader()
    app.extensions[EXTENSION] = {
        "catalog": Catalog(seed),
        "market": Market(seed),
        "state": DemoState(day or datetime.now(UTC).date()),
    }

    @app.context_processor
    def _site_defaults() -> dict[str, object]:
        # Pages outside a site (errors) still render the shared layout.
        return {"site_name": "Sluice demo sites", "home_url": "/", "current_day": state().day}

    @app.before_request
    def _count_hit() -> None:
        if not request.path.startswith("/_demo/"):
            query = request.query_string.decode("latin-1")
            state().record_hit(f"{request.path}?{query}" if query else request.path)

    @app.get("/robots.txt")
    def robots() -> Response:
        return Response(ROBOTS_TXT, mimetype="text/plain")

    app.register_blueprint(shop.bp)
    app.register_blueprint(market.bp)
    app.register_blueprint(control.bp)
    errors.register(app)
    return app
