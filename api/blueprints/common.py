"""What the data blueprints share: admission (key, limit, cache), the stores, CSV streams."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Response, g, request, stream_with_context
from flask_smorest import Blueprint

from api.auth import HEADER
from api.cache import request_cache
from api.gate import admit
from api.stores import Stores, current_stores
from sluice.export.cells import safe_cell


def stores() -> Stores:
    """The app's connections."""
    return current_stores()


def data_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A blueprint whose every endpoint needs an API key and counts against its limit (and
    whose ``@cached`` endpoints find their stored response in the same Redis round trip)."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix, description=description)

    @blueprint.before_request
    def _admit() -> None:
        found = stores()
        g.admission = admit(found.redis, found.engine, request.headers.get(HEADER), request_cache())

    @blueprint.after_request
    def _limit_headers(response: Response) -> Response:
        if "admission" in g:
            response.headers["X-RateLimit-Limit"] = str(g.admission.caller.rate_limit)
            response.headers["X-RateLimit-Remaining"] = str(max(0, g.admission.remaining))
        return response

    return blueprint


def jsonable(value: Any) -> Any:
    """A row value as JSON shows it (decimals as strings, times in ISO 8601)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


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
