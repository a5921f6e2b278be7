"""ValidationPipeline and KafkaPipeline in spiders/pipelines (a fake producer, no Kafka)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from confluent_kafka import KafkaException
from scrapy import Spider
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from spiders.items import CrawledItem
from spiders.pipelines import kafka as kafka_module
from spiders.pipelines.kafka import CLOSE_REASON, KafkaDeliveryError, KafkaPipeline
from spiders.pipelines.validation import ValidationPipeline

FETCHED = datetime(2026, 11, 20, 8, 30, 15, 123456, tzinfo=UTC)
PRODUCT = {
    "external_id": "LK-TP-CI08",
    "name": "Cast Iron Teapot 0.8 L",
    "price": 48,
    "currency": "USD",
    "availability": "in_stock",
    "url": "https://leafandkettle.example/products/cast-iron-teapot",
}
QUOTE = {
    "symbol": "ACMX",
    "name": "Acme Mining Corp",
    "exchange": "NYSE",
    "price": "17.89",
    "currency": "USD",
    "change": "-0.06",
    "change_pct": "-0.33",
    "volume": 182718,
    "as_of": "2026-11-20T21:00:00Z",
    "trade_date": "2026-11-20",
}


def make_crawler(spider_name: str = "ecommerce", settings: dict | None = None):
    crawler = get_crawler(Spider, settings or {})
    spider = Spider(spider_name)
    spider.crawl_id = "crawl-1"
    crawler.spider = spider
    return crawler


def product_item(**changes) -> CrawledItem:
    item = {**PRODUCT, **changes}
    return CrawledItem(
        schema="product/1",
        source="leafandkettle.example",
        url=PRODUCT["url"],
        item={k: v for k, v in item.items() if v is not ...},
        fetched_at=FETCHED,
    )


def quote_item() -> CrawledItem:
    return CrawledItem(
        schema="quote/1",
        source="market.localhost",
        url="http://127.0.0.1:8000/market/quotes?date=2026-11-20",
        item=dict(QUOTE),
        fetched_at=FETCHED,
    )


# --- ValidationPipeline -----------------------------------------------------------------------


@pytest.fixture
def validation():
    crawler = make_crawler()
    return ValidationPipeline.from_crawler(crawler), crawler.stats


def test_a_valid_product_passes_in_its_canonical_form(validation):
    pipeline, stats = validation
    item = product_item(price=48)

    assert pipeline.process_item(item) is item

    assert item.item["price"] == "48"  # a number became a decimal string
    assert item.item["currency"] == "USD"
    assert item.item["brand"] is None  # optional fields are filled in
    assert stats.get_value("item_valid/ecommerce") == 1
    assert not any(name.startswith("drop_item/") for name in stats.get_stats())


@pytest.mark.parametrize(
    ("price", "expected"), [(249.5, "249.5"), ("32.50", "32.50"), (" 27.00 ", "27.00")]
)
def test_prices_become_decimal_strings(validation, price, expected):
    pipeline, _ = validation

    assert pipeline.process_item(product_item(price=price)).item["price"] == expected


def test_a_valid_quote_passes(validation):
    pipeline, stats = validation

    item = pipeline.process_item(quote_item())

    assert item.item["price"] == "17.89"
    assert item.item["volume"] == 182718
    assert item.item["trade_date"] == "2026-11-20"
    assert stats.get_value("item_valid/ecommerce") == 1


@pytest.mark.parametrize("price", [..., None], ids=["missing", "null"])
def test_a_product_without_price_is_dropped(validation, price):
    pipeline, stats = validation

    with pytest.raises(DropItem, match=r"^no_price: .*cast-iron-teapot"):
        pipeline.process_item(product_item(price=price))

    assert stats.get_value("drop_item/ecommerce/no_price") == 1
    assert stats.get_value("item_valid/ecommerce") is None


def test_an_invalid_field_is_dropped_with_its_reason(validation):
    pipeline, stats = validation

    with pytest.raises(DropItem, match="invalid/currency"):
        pipeline.process_item(product_item(currency="dollars"))

    assert stats.get_value("drop_item/ecommerce/invalid/currency") == 1


def test_drop_counters_are_per_spider():
    crawler = make_crawler("finance")
    pipeline = ValidationPipeline.from_crawler(crawler)

    with pytest.raises(DropItem):
        pipeline.process_item(product_item(price=...))

    assert crawler.stats.get_value("drop_item/finance/no_price") == 1


def test_an_unknown_schema_is_dropped(validation):
    pipeline, stats = validation
    item = CrawledItem(schema="review/1", source="s", url="https://s.example/", item={})

    with pytest.raises(DropItem, match=r"unknown_schema: 'review/1' from https://s\.example/"):
        pipeline.process_item(item)

    assert stats.get_value("drop_item/ecommerce/unknown_schema") == 1


def test_other_items_pass_validation_untouched(validation):
    pipeline, stats = validation
    item = {"price": None}

    assert pipeline.process_item(item) is item
    assert stats.get_stats() == {}


# --- KafkaPipeline ----------------------------------------------------------------------------


class FakeProducer:
    """Records produce/poll/flush; ``buffer_full`` produce calls raise BufferError first."""

    def __init__(self, buffer_full: int = 0, remaining: int = 0) -> None:
        self.calls: list[tuple] = []
        self.produced: list[dict] = []
        self.buffer_full = buffer_full
        self.remaining = remaining
        self.flush_error: Exception | None = None

    def produce(self, topic, key=None, value=None, on_delivery=None) -> None:
        self.calls.append(("produce", topic))
        if self.buffer_full:
            self.buffer_full -= 1
            raise BufferError("Local: Queue full")
        self.produced.append(
            {"topic": topic, "key": key, "value": value, "on_delivery": on_delivery}
        )

    def poll(self, timeout: float) -> int:
        self.calls.append(("poll", timeout))
        return 0

    def flush(self, timeout: float) -> int:
        self.calls.append(("flush", timeout))
        if self.flush_error is not None:
            raise self.flush_error
        return self.remaining


class FakeError:
    def __init__(self, text: str) -> None:
        self.text = text

    def str(self) -> str:
        return self.text

    def __str__(self) -> str:
        return f"KafkaError{{{self.text}}}"


class FakeMessage:
    def __init__(self, topic: str, key: bytes) -> None:
        self._topic, self._key = topic, key

    def topic(self) -> str:
        return self._topic

    def key(self) -> bytes:
        return self._key


class FakeReactor:
    def __init__(self) -> None:
        self.scheduled: list[tuple] = []

    def callLater(self, delay, fn, *args):
        self.scheduled.append((delay, fn, args))


class FakeEngine:
    def __init__(self, spider) -> None:
        self.spider = spider
        self.closed: list[str] = []

    async def close_spider_async(self, reason: str) -> None:
        self.closed.append(reason)


@pytest.fixture
def fake_reactor(monkeypatch) -> FakeReactor:
    reactor = FakeReactor()
    monkeypatch.setattr(kafka_module, "reactor", reactor)
    return reactor


def kafka_pipeline(producer: FakeProducer | None = None, spider_name: str = "ecommerce"):
    crawler = make_crawler(
        spider_name,
        {"KAFKA_CONNECTION": {"bootstrap.servers": "127.0.0.1:1"}, "KAFKA_FLUSH_TIMEOUT": 7.5},
    )
    pipeline = KafkaPipeline.from_crawler(crawler)
    pipeline.producer = producer or FakeProducer()
    return pipeline, crawler


def test_kafka_pipeline_not_configured_without_bootstrap():
    with pytest.raises(NotConfigured):
        KafkaPipeline.from_crawler(make_crawler())


def test_a_product_is_produced_in_its_envelope():
    producer = FakeProducer()
    pipeline, crawler = kafka_pipeline(producer)
    item = product_item(price="48.00")

    assert pipeline.process_item(item) is item

    (message,) = producer.produced
    assert message["topic"] == "sluice.raw.products"
    assert message["key"] == b"leafandkettle.example:LK-TP-CI08"
    assert message["on_delivery"] == pipeline._report
    assert json.loads(message["value"]) == {
        "schema": "product/1",
        "crawl_id": "crawl-1",
        "spider": "ecommerce",
        "source": "leafandkettle.example",
        "url": "https://leafandkettle.example/products/cast-iron-teapot",
        "fetched_at": "2026-11-20T08:30:15Z",
        "item": item.item,
    }
    assert producer.calls == [("produce", "sluice.raw.products"), ("poll", 0)]
    assert crawler.stats.get_value("kafka/produced") == 1


def test_a_quote_is_keyed_by_its_symbol():
    producer = FakeProducer()
    pipeline, _ = kafka_pipeline(producer, spider_name="finance")

    pipeline.process_item(quote_item())

    (message,) = producer.produced
    assert message["topic"] == "sluice.raw.quotes"
    assert message["key"] == b"ACMX"
    envelope = json.loads(message["value"])
    assert (envelope["schema"], envelope["spider"]) == ("quote/1", "finance")
    assert envelope["item"] == QUOTE


def test_other_items_are_not_produced():
    producer = FakeProducer()
    pipeline, _ = kafka_pipeline(producer)
    item = {"not": "crawled"}

    assert pipeline.process_item(item) is item
    assert producer.calls == []


def test_a_full_local_queue_is_drained_and_the_produce_retried():
    producer = FakeProducer(buffer_full=2)
    pipeline, crawler = kafka_pipeline(producer)

    pipeline.process_item(product_item())

    assert producer.calls == [
        ("produce", "sluice.raw.products"),
        ("poll", 0.5),
        ("produce", "sluice.raw.products"),
        ("poll", 0.5),
        ("produce", "sluice.raw.products"),
        ("poll", 0),
    ]
    assert len(producer.produced) == 1
    assert crawler.stats.get_value("kafka/produced") == 1


def test_a_successful_delivery_report_is_counted():
    pipeline, crawler = kafka_pipeline()

    pipeline._report(None, FakeMessage("sluice.raw.products", b"k"))

    assert crawler.stats.get_value("kafka/delivered") == 1
    assert pipeline.errors == []


def test_a_failed_delivery_fails_the_next_item(caplog):
    producer = FakeProducer()
    pipeline, crawler = kafka_pipeline(producer)

    pipeline._report(
        FakeError("Local: Message timed out"), FakeMessage("sluice.raw.products", b"shop:1")
    )

    assert crawler.stats.get_value("kafka/delivery_failed") == 1
    assert "Kafka delivery failed" in caplog.text
    with pytest.raises(
        KafkaDeliveryError,
        match=r"1 Kafka deliveries failed \(sluice\.raw\.products key=b'shop:1': "
        r"Local: Message timed out\)",
    ):
        pipeline.process_item(product_item())
    assert producer.calls == []  # nothing more is produced once a delivery failed
    assert crawler.stats.get_value("kafka/produced") is None


def test_flush_with_everything_delivered_passes():
    producer = FakeProducer(remaining=0)
    pipeline, crawler = kafka_pipeline(producer)

    pipeline.flush()

    assert producer.calls == [("flush", 7.5)]
    assert crawler.stats.get_value("kafka/undelivered") is None
    assert crawler.stats.get_value("kafka/error") is None


def test_flush_without_a_producer_does_nothing():
    pipeline, _ = kafka_pipeline()
    pipeline.producer = None

    pipeline.flush()


def test_flush_with_undelivered_messages_raises(fake_reactor):
    pipeline, crawler = kafka_pipeline(FakeProducer(remaining=3))
    crawler.engine = FakeEngine(spider=None)  # spider already closing: nothing to schedule

    with pytest.raises(KafkaDeliveryError, match=r"3 messages still undelivered after 7\.5s"):
        pipeline.flush()

    assert crawler.stats.get_value("kafka/undelivered") == 3
    assert "3 messages still undelivered" in crawler.stats.get_value("kafka/error")
    assert fake_reactor.scheduled == []


def test_flush_failure_closes_a_running_spider(fake_reactor):
    pipeline, crawler = kafka_pipeline(FakeProducer(remaining=1))
    engine = FakeEngine(spider=crawler.spider)
    crawler.engine = engine

    with pytest.raises(KafkaDeliveryError):
        pipeline.flush()

    ((delay, close, args),) = fake_reactor.scheduled
    assert delay == 0
    close(*args)
    assert engine.closed == [CLOSE_REASON]


def test_repeated_flush_failures_ask_for_the_close_once(fake_reactor):
    pipeline, crawler = kafka_pipeline(FakeProducer(remaining=1))
    crawler.engine = FakeEngine(spider=crawler.spider)

    for _ in range(3):  # the loop tick, the idle check and the close each flush
        with pytest.raises(KafkaDeliveryError):
            pipeline.flush()

    assert len(fake_reactor.scheduled) == 1


def test_no_close_once_the_spider_has_closed(fake_reactor):
    pipeline, crawler = kafka_pipeline(FakeProducer(remaining=1))
    engine = FakeEngine(spider=crawler.spider)
    crawler.engine = engine
    with pytest.raises(KafkaDeliveryError):
        pipeline.flush()
    engine.spider = None  # the crawl ended (for another reason) before the close ran

    ((_, close, args),) = fake_reactor.scheduled
    close(*args)

    assert engine.closed == []


def test_flush_reports_an_earlier_failed_delivery(fake_reactor):
    pipeline, crawler = kafka_pipeline(FakeProducer(remaining=0))
    crawler.engine = FakeEngine(spider=None)
    pipeline._report(FakeError("Broker: Not enough in-sync replicas"), FakeMessage("t", b"k"))

    with pytest.raises(KafkaDeliveryError, match="Not enough in-sync replicas"):
        pipeline.flush()

    assert crawler.stats.get_value("kafka/undelivered") is None


def test_flush_turns_a_kafka_exception_into_a_delivery_error(fake_reactor):
    producer = FakeProducer()
    producer.flush_error = KafkaException("fatal idempotent producer error")
    pipeline, crawler = kafka_pipeline(producer)
    crawler.engine = FakeEngine(spider=None)

    with pytest.raises(KafkaDeliveryError, match="fatal idempotent producer error"):
        pipeline.flush()

    assert crawler.stats.get_value("kafka/undelivered") is None


def test_close_spider_logs_a_failed_flush_instead_of_raising(fake_reactor, caplog):
    pipeline, crawler = kafka_pipeline(FakeProducer(remaining=2))
    crawler.engine = FakeEngine(spider=None)

    pipeline.close_spider()

    assert "crawl crawl-1: 1 Kafka deliveries failed" in caplog.text
    assert crawler.stats.get_value("kafka/undelivered") == 2


def test_open_spider_hooks_the_flush_in_front_of_lease_acks(monkeypatch):
    producer = FakeProducer()
    made: list[tuple] = []

    def make_producer(bootstrap, **overrides):
        made.append((bootstrap, overrides))
        return producer

    monkeypatch.setattr(kafka_module, "make_producer", make_producer)
    pipeline, crawler = kafka_pipeline()
    crawler.spider.lease_book = SimpleNamespace(before_ack=[])

    pipeline.open_spider()

    assert pipeline.producer is producer
    assert made == [({"bootstrap.servers": "127.0.0.1:1"}, {"client.id": "sluice-ecommerce"})]
    assert crawler.spider.lease_book.before_ack == [pipeline.flush]


def test_the_drills_switch_acks_and_closes_without_waiting_for_kafka(monkeypatch):
    producer = FakeProducer(remaining=3)
    monkeypatch.setattr(kafka_module, "make_producer", lambda *_, **__: producer)
    crawler = make_crawler(
        "ecommerce",
        {
            "KAFKA_CONNECTION": {"bootstrap.servers": "127.0.0.1:1"},
            "SLUICE_DRILL_ACK_BEFORE_DELIVERY": True,
        },
    )
    pipeline = KafkaPipeline.from_crawler(crawler)
    crawler.spider.lease_book = SimpleNamespace(before_ack=[])

    pipeline.open_spider()
    pipeline.close_spider()

    assert (crawler.spider.lease_book.before_ack, producer.calls) == ([], [])
