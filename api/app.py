"""The Flask app factory: ``create_app()`` for gunicorn (``api.app:create_app()``) and tests."""

from __future__ import annotations

import logging

from flask import Flask
from flask_smorest import Api
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from api import limits
from api.blueprints import changes, crawls, docs, health, products, quotes, requests
from api.errors import error_response, register_error_handlers
from api.metrics import ApiMetrics
from api.schemas import Error
from api.stores import EXTENSION, Stores
from sluice import __version__
from sluice.settings import Settings, load_settings

log = logging.getLogger(__name__)


class SluiceApi(Api):
    """flask-smorest's Api, documenting the API's own error shape for every error status."""

    ERROR_SCHEMA = Error


def create_app(settings: Settings | None = None) -> Flask:
    """The API, reading PostgreSQL as the read-only role and caching in Redis."""
    settings = settings or load_settings()
    app = Flask("sluice-api")
    app.config.update(
        API_TITLE="Sluice API",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=docs.ASSETS_URL,
        JSON_SORT_KEYS=False,
    )
    app.extensions[EXTENSION] = Stores(settings)
    metrics = ApiMetrics()
    app.extensions["sluice.metrics"] = metrics
    metrics.install(app)

    api = SluiceApi(
        app,
        spec_kwargs={
            "info": {"description": "Products, price history, quotes and crawl runs."},
            "extra_plugins": [limits.LimitsPlugin()],
            "security": [{"ApiKey": []}],
            "components": {
                "securitySchemes": {
                    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
                }
            },
        },
    )
    for blueprint in (products.blp, changes.blp, quotes.blp, crawls.blp, requests.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(health.blp)
    app.register_blueprint(docs.blp)
    register_error_handlers(app)

    limits.install(app)

    # Only a database that cannot be reached is a 503; other database errors are bugs (500).
    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    def _database_down(exc: Exception):
        log.error("PostgreSQL unavailable: %s", str(exc).splitlines()[0])
        return error_response(
            503,
            "database_unavailable",
            "the database is unavailable; retry shortly",
            headers={"Retry-After": "5"},
        )

    return app
