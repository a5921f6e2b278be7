"""Validates every item with the marshmallow schemas the processors use too.

An invalid item is dropped with its reason and counted under
``drop_item/<spider>/<reason>`` (``drop_item/ecommerce/no_price``); a valid one continues in
its canonical wire form (prices as decimal strings, timestamps in ISO 8601).
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from scrapy.exceptions import DropItem

from sluice.schemas.envelope import ITEM_SCHEMAS
from sluice.schemas.items import rejection_reason
from spiders.items import CrawledItem


class ValidationPipeline:
    """Drops items the item schema rejects; normalises the rest."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.schemas = {name: cls() for name, cls in ITEM_SCHEMAS.items()}

    @classmethod
    def from_crawler(cls, crawler):
        """Scrapy's constructor hook."""
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        """Validate a :class:`CrawledItem`; other item types pass untouched."""
        if not isinstance(item, CrawledItem):
            return item
        spider = self.crawler.spider.name
        schema = self.schemas.get(item.schema)
        if schema is None:
            self.crawler.stats.inc_value(f"drop_item/{spider}/unknown_schema")
            raise DropItem(f"unknown_schema: {item.schema!r} from {item.url}")
        try:
            item.item = schema.dump(schema.load(item.item))
        except ValidationError as exc:
            reason = rejection_reason(exc, schema)
            self.crawler.stats.inc_value(f"drop_item/{spider}/{reason}")
            raise DropItem(f"{reason}: {exc.messages} at {item.url}") from exc
        self.crawler.stats.inc_value(f"item_valid/{spider}")
        return item
