"""What the data blueprints share: the key check, the stores, JSON of rows, CSV streams."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Response, current_app, g, request, stream_with_context
from flask_smorest import Blueprint

from api.auth import HEADER, authenticate, enforce_rate_limit
from api.stores import Stores
from sluice.export.cells import safe_cell


def stores() -> Stores:
    """The app's connections."""
    return current_app.extensions["sluice.stores"]


def data_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A blueprint whose every endpoint needs an API key and counts against its limit."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix, description=description)

    @blueprint.before_request
    def _authorize() -> None:
        found = stores()
        g.caller = authenticate(found.engine, request.headers.get(HEADER))
        g.remaining = enforce_rate_limit(found.redis, g.caller)

    @blueprint.after_request
    def _limit_headers(response: Response) -> Response:
        if "caller" in g:
            response.headers["X-RateLimit-Limit"] = str(g.caller.rate_limit)
            response.headers["X-RateLimit-Remaining"] = str(max(0, g.get("remaining", 0)))
        return response

    return blueprint


def jsonable(value: Any) -> Any:
    """A row value as JSON shows it (decimals as strings, times in ISO 8601)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def rows_json(rows: Iterable[dict[str, Any]], drop: tuple[str, ...] = ()) -> list[dict]:
    """Rows as JSON objects."""
    return [{k: jsonable(v) for k, v in row.items() if k not in drop} for row in rows]


def csv_stream(filename: str, columns: list[str], rows: Iterator[Any]) -> Response:
    """Rows streamed as CSV (header first), never held in memory as a whole.

    Text cells a spreadsheet would run as a formula are guarded (sluice.export.cells).
    """

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([safe_cell(v) if isinstance(v, str) else jsonable(v) for v in row])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def stream_rows(query) -> Iterator[Any]:
    """Execute ``query`` with a server-side cursor and yield its rows."""
    with stores().engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(query)
        yield from result
