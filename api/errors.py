"""One error shape for every failure: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error the API answers with on purpose (e.g. 503 when a store is down)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def invalid_parameter(name: str, problem: str) -> ApiError:
    """The 400 for one bad parameter, in the shape webargs' own parameter errors take."""
    return ApiError(
        400, "bad_request", f"invalid parameter(s): {name}", {"parameters": {name: [problem]}}
    )


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The JSON error response every failure uses."""
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    details: dict[str, Any] = {}
    message = exc.description or exc.name
    # flask-smorest (webargs) reports invalid parameters as 422 with per-field messages; the
    # API answers 400 and names each parameter.
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if status == 422 and messages:
        status = 400
        details = {"parameters": _flatten(messages)}
        message = "invalid parameter(s): " + ", ".join(sorted(details["parameters"]))
    code = {
        400: "bad_request",
        401: "unauthorized",
        404: "not_found",
        405: "method_not_allowed",
        413: "payload_too_large",
        414: "uri_too_long",
        431: "headers_too_large",
        429: "rate_limited",
    }.get(status, exc.name.lower().replace(" ", "_"))
    response = error_response(status, code, message, details)
    allowed = exc.get_response().headers.get("Allow") if status == 405 else None
    if allowed:
        response.headers["Allow"] = allowed
    return response


def _flatten(messages: dict[str, Any]) -> dict[str, list[str]]:
    """webargs' {location: {field: [msgs]}} as {field: [msgs]}."""
    flat: dict[str, list[str]] = {}
    for location, fields in messages.items():
        if not isinstance(fields, dict):
            flat[location] = [str(fields)]
            continue
        for name, problems in fields.items():
            listed = problems if isinstance(problems, list) else [problems]
            flat[name] = [str(p) for p in listed]
    return flat


def register_error_handlers(app: Flask) -> None:
    """Route every error through :func:`error_response`."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    app.register_error_handler(HTTPException, _http_error)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # The one place unexpected errors are logged; the client gets no internals.
        log.error("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", "internal server error")
