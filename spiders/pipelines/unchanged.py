"""Publishes a product found unchanged since it was last published as a small "seen" notice
instead of the whole item (:mod:`sluice.crawl.fingerprints`).

Each valid product's content hash is compared with the one remembered for it. The same: the
item becomes a ``seen/1`` notice (keyed like the product, so it stays in order with it), and
the processors move the product's last sighting on without writing it again. Different or
unknown: the item goes out whole, and its hash is remembered once Kafka has confirmed it (the
lease book's ``after_durable`` step). Redis away: the item goes out whole.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from scrapy.exceptions import NotConfigured

from sluice.crawl.fingerprints import Fingerprints, fingerprint
from sluice.schemas.envelope import PRODUCT_SCHEMA, SEEN_SCHEMA
from sluice.storage.redis import client
from spiders.items import CrawledItem
from spiders.leasing import book_of

log = logging.getLogger(__name__)


class UnchangedItemsPipeline:
    """Turns unchanged products into seen notices; remembers the others' fingerprints."""

    def __init__(self, crawler, fingerprints: Fingerprints) -> None:
        self.crawler = crawler
        self.fingerprints = fingerprints
        self.pending: list[tuple[str, str, str]] = []
        self.active = False
        # Set while Redis does not answer, so an outage is logged once, not once per item.
        self.unavailable = False

    @classmethod
    def from_crawler(cls, crawler):
        """Enabled by ``SLUICE_SKIP_UNCHANGED`` (with ``REDIS_URL``)."""
        settings = crawler.settings
        if not settings.getbool("SLUICE_SKIP_UNCHANGED") or not settings.get("REDIS_URL"):
            raise NotConfigured("SLUICE_SKIP_UNCHANGED is off")
        days = settings.getint("SLUICE_UNCHANGED_MEMORY_DAYS", 7)
        return cls(crawler, Fingerprints(client(settings["REDIS_URL"], decode=False), days * 86400))

    def open_spider(self) -> None:
        """Remember fingerprints after each durable flush; without a lease book (a crawl
        outside Sluice's queue) nothing is remembered or skipped."""
        book = book_of(self.crawler.spider)
        if book is not None:
            book.after_durable.append(self.remember)
            self.active = True

    def process_item(self, item: Any) -> Any:
        """The item, or its seen notice when its product is unchanged."""
        if not self.active or not isinstance(item, CrawledItem) or item.schema != PRODUCT_SCHEMA:
            return item
        external_id = item.item["external_id"]
        content = fingerprint(item.item)
        try:
            known = self.fingerprints.known(item.source, external_id)
        except redis.RedisError as exc:
            self.crawler.stats.inc_value("fingerprints/unavailable")
            if not self.unavailable:
                log.warning("fingerprints unavailable (%s); items go out whole meanwhile", exc)
            self.unavailable = True
            return item
        if self.unavailable:
            log.info("fingerprints available again")
            self.unavailable = False
        if known == content:
            self.crawler.stats.inc_value(f"item_unchanged/{self.crawler.spider.name}")
            return CrawledItem(
                schema=SEEN_SCHEMA,
                source=item.source,
                url=item.url,
                item={"external_id": external_id, "url": item.item["url"]},
                fetched_at=item.fetched_at,
            )
        self.pending.append((item.source, external_id, content))
        return item

    def remember(self) -> None:
        """Store the fingerprints of items Kafka has confirmed (every item so far)."""
        batch, self.pending = self.pending, []
        try:
            self.fingerprints.remember(batch)
        except redis.RedisError as exc:
            # The items are durable: a fingerprint not kept only costs a whole item next time.
            log.warning("could not remember %d fingerprints (%s)", len(batch), exc)
