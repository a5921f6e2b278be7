"""``finance``: one trading day's quotes from the market, as an HTML table or its JSON API.

The run for date D crawls D's quotes (``--date`` / ``-a date=``; default today, UTC), which
is what makes `crawl_finance` backfillable.

    scrapy crawl finance -a start_urls=http://127.0.0.1:8000/market/quotes -a date=2026-11-20
    sluice crawl finance --start-url http://127.0.0.1:8000/market/quotes --date 2026-11-20
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

import scrapy
from scrapy.http import Response
from w3lib.url import add_or_replace_parameter

from sluice.schemas.envelope import QUOTE_SCHEMA
from spiders.items import CrawledItem
from spiders.spiders.base import SluiceSpider

#: the market closes at 21:00 UTC; a table row without a timestamp is the close of its day
CLOSE = time(21, 0, tzinfo=UTC)
CELLS = ("symbol", "name", "exchange", "price", "currency", "change", "change-pct", "volume")


def trade_date(value: str | None) -> date:
    """The requested trade date (today, UTC, when not given); ValueError names a bad one."""
    if not value:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"date={value!r} is not YYYY-MM-DD") from exc


class FinanceSpider(SluiceSpider):
    """Quotes of one day; see the module docstring."""

    name = "finance"

    def __init__(self, *args: Any, date: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.trade_date = trade_date(date)

    @classmethod
    def seed_requests(cls, start_urls: list[str], params: dict[str, Any]) -> list[scrapy.Request]:
        """Each start URL with the crawl's ``date`` parameter."""
        day = trade_date(params.get("date")).isoformat()
        return [
            scrapy.Request(add_or_replace_parameter(url, "date", day), meta={"trade_date": day})
            for url in start_urls
        ]

    def seed_request(self, url: str) -> scrapy.Request:
        """A start URL for this spider's date."""
        day = self.trade_date.isoformat()
        return scrapy.Request(add_or_replace_parameter(url, "date", day), meta={"trade_date": day})

    def parse(self, response: Response) -> Iterator[object]:
        """JSON pages go to :meth:`parse_quotes_json`, HTML pages to :meth:`parse_quotes_table`."""
        if b"json" in (response.headers.get(b"Content-Type") or b""):
            return self.parse_quotes_json(response)
        return self.parse_quotes_table(response)

    def _day(self, response: Response) -> str:
        return response.meta.get("trade_date") or self.trade_date.isoformat()

    def parse_quotes_table(self, response: Response) -> Iterator[object]:
        """Rows of ``table.quotes``; then the next page."""
        day = response.css("table.quotes::attr(data-date)").get() or self._day(response)
        as_of = datetime.combine(date.fromisoformat(day), CLOSE).isoformat().replace("+00:00", "Z")
        for row in response.css("table.quotes tbody tr"):
            cell = {name: (row.css(f"td.{name}::text").get() or "").strip() for name in CELLS}
            quote = {
                "symbol": cell["symbol"] or row.attrib.get("data-symbol"),
                "name": cell["name"] or None,
                "exchange": cell["exchange"] or None,
                "price": cell["price"] or None,
                "currency": cell["currency"] or None,
                "change": cell["change"] or None,
                "change_pct": cell["change-pct"] or None,
                "volume": int(cell["volume"]) if cell["volume"].isdigit() else None,
                "as_of": as_of,
                "trade_date": day,
            }
            yield self._item(response, quote)
        next_page = response.css("a[rel=next]::attr(href)").get()
        if next_page:
            yield response.follow(next_page, callback=self.parse, meta={"trade_date": day})

    def parse_quotes_json(self, response: Response) -> Iterator[object]:
        """``{"quotes": [...], "next": url|null}``; then the next page."""
        payload = json.loads(response.text)
        day = payload.get("date") or self._day(response)
        for quote in payload.get("quotes", []):
            yield self._item(response, {**quote, "trade_date": quote.get("trade_date", day)})
        if payload.get("next"):
            yield response.follow(payload["next"], callback=self.parse, meta={"trade_date": day})

    def _item(self, response: Response, quote: dict[str, Any]) -> CrawledItem:
        return CrawledItem(
            schema=QUOTE_SCHEMA,
            source=self.sites.source_for(response.url),
            url=response.url,
            item=quote,
        )
