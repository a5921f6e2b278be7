"""The drills' input and their measure of the outcome.

A :class:`Stream` is a seeded, deterministic set of envelopes under a run tag of its own
(source, crawl id and ticker prefix), so a reference run and a faulted run of the same input
live side by side on one stack. A :class:`Fingerprint` reads back everything a stream left
behind, with the run tag and ingestion timestamps taken out, so two runs of one stream compare
row for row.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from confluent_kafka import Producer

from sluice.kafka.producer import produce_waiting
from sluice.kafka.topics import DLQ, RAW_PRODUCTS, RAW_QUOTES
from sluice.settings import Settings
from sluice.storage import mongo
from sluice.storage.postgres import connect
from tests.support import topic_range

#: the run tag stands for this in every fingerprint
TAG = "<run>"
#: shares of the stream: the rest are product observations
QUOTE_SHARE = 0.08
INVALID_SHARE = 0.01
#: observations of each product (a price history of up to this many rows)
DAYS = 4
#: moments of each ticker
MOMENTS = 20
BEGIN = datetime(2026, 10, 1, 8, tzinfo=UTC)


@dataclass(frozen=True)
class Stream:
    """``size`` envelopes drawn from ``seed``, tagged ``tag``."""

    seed: int
    size: int
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def source(self) -> str:
        """The source every envelope names."""
        return f"drill-{self.tag}.test"

    @property
    def crawl_id(self) -> str:
        """The crawl id every envelope carries."""
        return f"drill-{self.tag}"

    @property
    def ticker_prefix(self) -> str:
        """Tickers start with this (tickers are global, so each run needs its own)."""
        return self.tag.upper()

    def counts(self) -> tuple[int, int, int]:
        """(product observations, quotes, invalid messages) of the stream."""
        quotes = int(self.size * QUOTE_SHARE)
        invalid = max(1, int(self.size * INVALID_SHARE))
        return self.size - quotes - invalid, quotes, invalid

    def messages(self) -> list[tuple[str, bytes, bytes]]:
        """(topic, key, value) of every message, in publishing order."""
        rng = random.Random(self.seed)
        observations, quotes, invalid = self.counts()
        products = [self._product(rng, i) for i in range(-(-observations // DAYS))]
        out: list[tuple[str, bytes, bytes]] = []
        # Day-major, so each product's observations arrive in time order (one key, one
        # partition), the way daily crawls publish them.
        for day in range(DAYS):
            for sku, base in products:
                if len(out) >= observations:
                    break
                out.append(self._observation(rng, sku, base, day))
        out += [self._quote(rng, i) for i in range(quotes)]
        out += [self._invalid(i) for i in range(invalid)]
        return out

    def publish(self, settings: Settings) -> int:
        """Produce the stream to the raw topics and wait until Kafka has all of it."""
        producer = Producer({**settings.kafka, "enable.idempotence": True, "linger.ms": 20})
        messages = self.messages()
        for topic, key, value in messages:
            produce_waiting(producer, topic, key, value)
        assert producer.flush(120) == 0, "the stream was not all acknowledged"
        return len(messages)

    # -- envelopes -----------------------------------------------------------------------------
    def _product(self, rng: random.Random, i: int) -> tuple[str, Decimal]:
        return f"SKU-{i:06d}", Decimal(rng.randrange(199, 99_999)) / 100

    def _observation(self, rng: random.Random, sku: str, base: Decimal, day: int) -> tuple:
        # Some days change the price or the availability: those make history rows.
        price = base + Decimal(rng.choice((0, 0, 0, 1, -1))) * day / 4
        availability = rng.choice(("in_stock",) * 5 + ("out_of_stock",))
        fetched = BEGIN + timedelta(days=day, seconds=rng.randrange(3600))
        url = f"http://{self.source}/p/{sku}"
        envelope = {
            "schema": "product/1",
            "crawl_id": self.crawl_id,
            "spider": "ecommerce",
            "source": self.source,
            "url": url,
            "fetched_at": fetched.isoformat(),
            "item": {
                "external_id": sku,
                "name": f"Product {sku}",
                "brand": rng.choice(("Acme", "Globex", "Initech")),
                "category": rng.choice(("tools", "garden", "kitchen")),
                "price": str(max(price, Decimal("0.50"))),
                "currency": "USD",
                "availability": availability,
                "rating": round(rng.uniform(1, 5), 1),
                "review_count": rng.randrange(500),
                "image_url": None,
                "url": url,
            },
        }
        return RAW_PRODUCTS.name, f"{self.source}:{sku}".encode(), json.dumps(envelope).encode()

    def _quote(self, rng: random.Random, i: int) -> tuple:
        symbol = f"{self.ticker_prefix}-{i // MOMENTS}"
        as_of = BEGIN + timedelta(minutes=i % MOMENTS)
        envelope = {
            "schema": "quote/1",
            "crawl_id": self.crawl_id,
            "spider": "finance",
            "source": self.source,
            "url": f"http://{self.source}/quotes",
            "fetched_at": (as_of + timedelta(seconds=30)).isoformat(),
            "item": {
                "symbol": symbol,
                "name": symbol,
                "exchange": "NYSE",
                "price": f"{rng.uniform(5, 500):.2f}",
                "currency": "USD",
                "change": "0.10",
                "change_pct": "0.50",
                "volume": rng.randrange(10_000),
                "as_of": as_of.isoformat(),
                "trade_date": as_of.date().isoformat(),
            },
        }
        return RAW_QUOTES.name, symbol.encode(), json.dumps(envelope).encode()

    def _invalid(self, i: int) -> tuple:
        # Envelopes validation refuses (a negative price, or a currency that is not ISO 4217):
        # each must end in the DLQ and in rejected_items exactly once, and be archived.
        key = f"{self.source}:BAD-{i}".encode()
        _, _, value = self._observation(random.Random(i), f"BAD-{i}", Decimal("1.00"), 0)
        envelope = json.loads(value)
        if i % 2:
            envelope["item"]["currency"] = "XX"
        else:
            envelope["item"]["price"] = "-1.00"
        return RAW_PRODUCTS.name, key, json.dumps(envelope).encode()


PRODUCTS = """
SELECT external_id, name, brand, category, price::text, currency, availability, rating::text,
       review_count, image_url, url, first_seen_at, last_seen_at, last_crawl_id
FROM products WHERE source = %(source)s ORDER BY external_id
"""
PRICES = """
SELECT p.external_id, pp.price::text, pp.currency, pp.availability, pp.observed_at, pp.crawl_id
FROM product_prices pp JOIN products p ON p.id = pp.product_id
WHERE p.source = %(source)s ORDER BY p.external_id, pp.observed_at
"""
QUOTES = """
SELECT symbol, name, exchange, price::text, currency, change::text, change_pct::text, volume,
       as_of, trade_date, crawl_id, fetched_at
FROM quotes WHERE source = %(source)s ORDER BY symbol, as_of
"""
REJECTED = """
SELECT topic, message_key, crawl_id, stage, reason, payload
FROM rejected_items WHERE message_key LIKE %(keys)s OR crawl_id = %(crawl_id)s
ORDER BY message_key, stage
"""


@dataclass
class Fingerprint:
    """Everything one stream left in the stores, tag and ingestion times taken out."""

    tables: dict[str, list[str]]
    #: dead letters on the topic, each once per delivery (a replay may deliver one twice)
    dead_letters: list[str]

    @property
    def rows_out(self) -> int:
        """Rows in PostgreSQL's products, product_prices and quotes."""
        return sum(len(self.tables[t]) for t in ("products", "product_prices", "quotes"))

    def checksums(self) -> dict[str, str]:
        """An ordered checksum per table (and of the distinct dead letters)."""
        sums = {name: _checksum(rows) for name, rows in self.tables.items()}
        sums["dlq"] = _checksum(sorted(set(self.dead_letters)))
        return sums


def fingerprint(settings: Settings, stream: Stream) -> Fingerprint:
    """Read back what ``stream`` left in PostgreSQL, MongoDB and the dead-letter topic."""
    scope = {
        "source": stream.source,
        "crawl_id": stream.crawl_id,
        "keys": f"{stream.source}:%",
    }
    tables: dict[str, list[str]] = {}
    with connect(settings.postgres_url) as conn:
        for name, query in (
            ("products", PRODUCTS),
            ("product_prices", PRICES),
            ("quotes", QUOTES),
            ("rejected_items", REJECTED),
        ):
            tables[name] = [_untag(stream, row) for row in conn.execute(query, scope)]
    tables["raw_items"] = raw_items(settings, stream)
    return Fingerprint(tables, dead_letters(settings, stream))


def raw_items(settings: Settings, stream: Stream) -> list[str]:
    """The archived documents of ``stream``, without _id (a hash of tagged bytes) and the time
    they were received."""
    database = urlsplit(settings.mongo_url).path.lstrip("/") or "sluice"
    # The archive grows by a whole stream per drill: one indexed equality, a patient client.
    client = mongo.client(settings.mongo_url, timeout=300)
    try:
        found = client[database]["raw_items"].find(
            {"crawl_id": stream.crawl_id},
            {"_id": 0, "received_at": 0, "partition": 0, "offset": 0},
        )
        docs = [_untag(stream, _canonical(doc)) for doc in found]
    finally:
        client.close()
    return sorted(docs)


def dead_letters(settings: Settings, stream: Stream) -> list[str]:
    """Each dead letter of ``stream`` on the DLQ topic: stage, reason and payload."""
    found: list[str] = []
    whole_topic = topic_range.from_start(topic_range.end_marks(settings, DLQ.name))
    for message in topic_range.messages(settings, whole_topic):
        key = (message.key() or b"").decode("utf-8", "replace")
        headers = {k: v.decode("utf-8", "replace") for k, v in message.headers() or []}
        if key.startswith(f"{stream.source}:") or headers.get("crawl_id") == stream.crawl_id:
            value = (message.value() or b"").decode("utf-8", "replace")
            found.append(_untag(stream, (key, headers.get("stage"), headers.get("reason"), value)))
    return sorted(found)


@dataclass(frozen=True)
class Comparison:
    """A faulted run's fingerprint against the reference run's."""

    losses: int
    duplicates: int
    mismatches: int
    dlq_equal: bool
    tables_equal: dict[str, bool]

    @property
    def identical(self) -> bool:
        """Nothing lost, nothing twice, nothing different, the same dead letters."""
        return not (self.losses or self.duplicates or self.mismatches) and self.dlq_equal


def compare(reference: Fingerprint, observed: Fingerprint) -> Comparison:
    """Rows of the reference missing from the observed run (losses), rows the observed run
    holds more often than the reference (duplicates), and rows it holds that the reference
    does not (mismatches)."""
    losses = duplicates = mismatches = 0
    for name, rows in reference.tables.items():
        expected, got = Counter(rows), Counter(observed.tables[name])
        losses += sum((expected - got).values())
        for row, count in (got - expected).items():
            if row in expected:
                duplicates += count
            else:
                mismatches += count
    equal = {name: reference.tables[name] == observed.tables[name] for name in reference.tables}
    return Comparison(
        losses=losses,
        duplicates=duplicates,
        mismatches=mismatches,
        dlq_equal=set(reference.dead_letters) == set(observed.dead_letters),
        tables_equal=equal,
    )


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _untag(stream: Stream, row: object) -> str:
    text = row if isinstance(row, str) else _canonical(list(row))
    return text.replace(stream.tag, TAG).replace(stream.ticker_prefix, TAG)


def _checksum(rows: list[str]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(row.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]
