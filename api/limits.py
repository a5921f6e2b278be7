"""How large a request may be, checked by the app so every refusal is the JSON error envelope.

gunicorn refuses an over-long request line or header with a plain-text page of its own before
the app sees it. The app's limits sit below the server's (``SERVER_*``, passed to gunicorn by
``sluice api``), so a client over the app's limit gets 414 or 431 as JSON, like every error.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from flask import Flask, abort, request

#: the longest request target (path and query string, percent-encoded) the API answers
MAX_URI_BYTES = 4096
#: the longest single header line (name and value) the API answers
MAX_HEADER_BYTES = 8192
#: the most header lines a request may carry
MAX_HEADERS = 100
#: the largest request body accepted (the API takes no uploads)
MAX_BODY_BYTES = 64 * 1024

#: gunicorn's own limits, above the app's (its request line cannot exceed 8190 bytes)
SERVER_REQUEST_LINE = 8190
SERVER_HEADER_BYTES = 2 * MAX_HEADER_BYTES
SERVER_HEADERS = 2 * MAX_HEADERS

_DOCUMENTED = {"413": "REQUEST_ENTITY_TOO_LARGE", "414": "REQUEST_URI_TOO_LONG",
               "431": "REQUEST_HEADER_FIELDS_TOO_LARGE"}  # fmt: skip


def install(app: Flask) -> None:
    """Refuse requests over the limits before routing reads anything."""
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @app.before_request
    def _refuse_oversized() -> None:
        if target_bytes(request.environ) > MAX_URI_BYTES:
            abort(414, f"request targets (path and query) are limited to {MAX_URI_BYTES} bytes")
        if len(request.headers) > MAX_HEADERS:
            abort(431, f"requests are limited to {MAX_HEADERS} header lines")
        for name, value in request.headers.items():
            if len(name) + len(value) > MAX_HEADER_BYTES:
                abort(431, f"header {name} is over the limit of {MAX_HEADER_BYTES} bytes")
        if (request.content_length or 0) > MAX_BODY_BYTES:
            abort(413, f"request bodies are limited to {MAX_BODY_BYTES} bytes")


def target_bytes(environ: dict[str, Any]) -> int:
    """The request target's length as sent (gunicorn's RAW_URI carries the query string; the
    test client's does not)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    return len(raw) if "?" in raw or not query else len(raw) + 1 + len(query)


class LimitsPlugin(BasePlugin):
    """Documents the size refusals on every operation of the OpenAPI document."""

    def operation_helper(self, path=None, operations=None, **kwargs: Any) -> None:
        """Add 413, 414 and 431 (the error envelope) to each operation's responses."""
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            for status, name in _DOCUMENTED.items():
                responses.setdefault(status, name)
