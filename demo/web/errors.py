"""Error pages: a small HTML page for the sites, a JSON body for the APIs and control paths."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)

JSON_PREFIXES = ("/shop/api/", "/market/api/", "/_demo/")


def wants_json() -> bool:
    """Whether the current request went to an API or control path."""
    return request.path.startswith(JSON_PREFIXES)


def _handle(error: HTTPException):
    code = error.code or 500
    if wants_json():
        return jsonify({"error": error.description, "status": code}), code
    page = render_template("error.html", code=code, title=error.name, message=error.description)
    return page, code


def register(app: Flask) -> None:
    """Install the error handlers on ``app``."""
    app.register_error_handler(HTTPException, _handle)
