"""``/api/v1/quotes``: list, one symbol's latest quote, CSV export."""

from __future__ import annotations

import re

from flask import Response
from flask.views import MethodView

from api.blueprints.common import csv_stream, data_blueprint, stores, stream_rows
from api.cache import cached
from api.errors import ApiError, invalid_parameter
from api.schemas import Quote, QuoteExportQuery, QuotePage, QuoteQuery
from api.services import quotes as service

blp = data_blueprint("quotes", __name__, "/api/v1/quotes", "Market quotes.")

SYMBOL = re.compile(r"^[A-Za-z0-9.\-^=]{1,20}$")


@blp.route("")
class Quotes(MethodView):
    """Quotes by symbol and trade-date range, a page at a time."""

    @cached(blp, QuotePage, "quotes")
    @blp.arguments(QuoteQuery, location="query", as_kwargs=True)
    def get(self, **filters) -> dict:
        """List quotes (keyset pagination: follow `next`)."""
        with stores().engine.connect() as conn:
            rows, following = service.list_quotes(conn, filters)
        return {"items": rows, "next": following}


@blp.route("/export.csv")
class QuotesCsv(MethodView):
    """Every quote matching the filters, as CSV."""

    @blp.arguments(QuoteExportQuery, location="query", as_kwargs=True)
    @blp.response(200, content_type="text/csv")
    def get(self, **filters) -> Response:
        """Stream quotes as CSV (same filters as the listing, no paging)."""
        query = service.filtered(filters).order_by(service.quotes.c.id)
        return csv_stream("quotes.csv", [c.name for c in service.COLUMNS], stream_rows(query))


@blp.route("/<string:symbol>")
class LatestQuote(MethodView):
    """One symbol's newest quote."""

    @cached(blp, Quote, "quotes")
    def get(self, symbol: str) -> dict:
        """The latest quote of a symbol."""
        if not SYMBOL.fullmatch(symbol):
            raise invalid_parameter("symbol", "1-20 letters, digits or . - ^ =")
        with stores().engine.connect() as conn:
            row = service.latest_quote(conn, symbol)
        if row is None:
            raise ApiError(404, "not_found", f"no quote for {symbol.upper()}")
        return row
