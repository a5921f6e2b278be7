"""Publishes every valid item to Kafka in the envelope of the data contract.

An idempotent producer (acks=all) keyed by the item's natural key. Delivery reports are
counted in the crawl stats (``kafka/delivered``, ``kafka/delivery_failed``). Before a worker
acknowledges a request as done, the pipeline flushes the producer: a request whose items are
not durable in Kafka is never marked done. A failed delivery closes the spider with reason
``kafka_delivery_failed`` — loudly, with the error — and its request's lease is left to lapse
so the items are produced again; nothing is dropped silently.
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import reactor

from sluice.kafka.producer import make_producer
from sluice.kafka.topics import RAW_PRODUCTS, RAW_QUOTES
from sluice.schemas.envelope import (
    PRODUCT_SCHEMA,
    QUOTE_SCHEMA,
    SEEN_SCHEMA,
    build_envelope,
    encode,
    natural_key,
)
from spiders.items import CrawledItem
from spiders.leasing import book_of

log = logging.getLogger(__name__)

TOPICS = {
    PRODUCT_SCHEMA: RAW_PRODUCTS.name,
    SEEN_SCHEMA: RAW_PRODUCTS.name,
    QUOTE_SCHEMA: RAW_QUOTES.name,
}
CLOSE_REASON = "kafka_delivery_failed"


class KafkaDeliveryError(RuntimeError):
    """Kafka did not confirm some messages; the message says how many and why."""


class KafkaPipeline:
    """Produce each item; flush before the crawl's leases are acknowledged."""

    def __init__(
        self,
        crawler,
        kafka: dict[str, Any],
        flush_timeout: float,
        ack_before_delivery: bool = False,
    ) -> None:
        self.crawler = crawler
        self.kafka = kafka
        self.flush_timeout = flush_timeout
        # Test-only: the ordering bug the fault drills must catch (never set in a deployment).
        self.ack_before_delivery = ack_before_delivery
        self.producer = None
        self.errors: list[str] = []
        self._close_requested = False

    @classmethod
    def from_crawler(cls, crawler):
        """Enabled when ``KAFKA_CONNECTION`` names the brokers."""
        kafka = crawler.settings.getdict("KAFKA_CONNECTION")
        if not kafka.get("bootstrap.servers"):
            raise NotConfigured("KAFKA_CONNECTION has no bootstrap.servers")
        return cls(
            crawler,
            kafka,
            crawler.settings.getfloat("KAFKA_FLUSH_TIMEOUT", 60.0),
            crawler.settings.getbool("SLUICE_DRILL_ACK_BEFORE_DELIVERY"),
        )

    def open_spider(self) -> None:
        """Create the producer and hook the flush in front of lease acknowledgements."""
        self.producer = make_producer(
            self.kafka, **{"client.id": f"sluice-{self.crawler.spider.name}"}
        )
        book = book_of(self.crawler.spider)
        if book is not None and not self.ack_before_delivery:
            book.before_ack.append(self.flush)

    def process_item(self, item: Any) -> Any:
        """Produce one item (asynchronously; the delivery report is counted when it arrives)."""
        if not isinstance(item, CrawledItem):
            return item
        if self.errors:
            raise KafkaDeliveryError(self._summary())
        spider = self.crawler.spider
        envelope = build_envelope(
            schema=item.schema,
            crawl_id=spider.crawl_id,
            spider=spider.name,
            source=item.source,
            url=item.url,
            item=item.item,
            fetched_at=item.fetched_at,
        )
        key = natural_key(item.schema, item.source, item.item)
        value = encode(envelope)
        while True:
            try:
                self.producer.produce(
                    TOPICS[item.schema], key=key.encode(), value=value, on_delivery=self._report
                )
                break
            except BufferError:
                # The local queue is full: let deliveries drain, then try again.
                self.producer.poll(0.5)
        self.producer.poll(0)
        self.crawler.stats.inc_value("kafka/produced")
        return item

    def _report(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            self.crawler.stats.inc_value("kafka/delivered")
            return
        self.crawler.stats.inc_value("kafka/delivery_failed")
        self.errors.append(f"{msg.topic()} key={msg.key()!r}: {err.str()}")
        log.error("Kafka delivery failed: topic=%s key=%r error=%s", msg.topic(), msg.key(), err)

    def _summary(self) -> str:
        shown = "; ".join(self.errors[:3])
        return f"{len(self.errors)} Kafka deliveries failed ({shown})"

    def flush(self) -> None:
        """Wait until every produced message is acknowledged by Kafka, or raise."""
        if self.producer is None:
            return
        try:
            remaining = self.producer.flush(self.flush_timeout)
        except KafkaException as exc:
            self.errors.append(str(exc))
            remaining = -1
        if remaining > 0:
            self.crawler.stats.max_value("kafka/undelivered", remaining)
            self.errors.append(
                f"{remaining} messages still undelivered after {self.flush_timeout}s"
            )
        if self.errors:
            self.crawler.stats.set_value("kafka/error", self._summary())
            self._fail()
            raise KafkaDeliveryError(self._summary())

    def _fail(self) -> None:
        engine = self.crawler.engine
        # Every later flush fails too: ask for the close once.
        if engine is not None and engine.spider is not None and not self._close_requested:
            self._close_requested = True
            reactor.callLater(0, self._close, engine)

    @staticmethod
    def _close(engine) -> None:
        # A close asked for while Scrapy already closes the spider waits for that close.
        if engine.spider is None:
            return
        deferred_from_coro(engine.close_spider_async(reason=CLOSE_REASON))

    def close_spider(self) -> None:
        """Deliver what is still buffered; a failure is logged and recorded as the crawl's error."""
        if self.ack_before_delivery:
            # The drills' bug: the worker ends without waiting for what Kafka has not confirmed.
            return
        try:
            self.flush()
        except KafkaDeliveryError as exc:
            log.error("crawl %s: %s", self.crawler.spider.crawl_id, exc)
