"""Backups on the real PostgreSQL and FerretDB, of databases of the tests' own.

Restoring replaces a database's contents, and other tests (and other people) use the stack's
``sluice`` databases at the same time; so what these tests back up and restore is a scratch
PostgreSQL database and a scratch MongoDB database, migrated by `sluice migrate` exactly like
the real ones and seeded with rows and documents of every awkward kind. The real ``sluice``
database is only ever read (a backup of it is verified in scratch databases).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from psycopg import sql
from pymongo.database import Database

from sluice.storage.mongo import client as mongo_client
from sluice.storage.objects import ObjectStore
from sluice.storage.postgres import connect

PRODUCTS = 40
RAW_DOCUMENTS = 120
NOTES = 15


@dataclass(frozen=True)
class Source:
    """The scratch databases a test backs up: their URLs and the rows seeded into them."""

    name: str
    postgres_url: str
    mongo_url: str
    mongo_db: Database
    product_source: str
    #: a bucket of the tests' own: what they upload and prune never touches real sets
    bucket: str

    @property
    def env(self) -> dict[str, str]:
        """Environment that points the `sluice` command at these databases and bucket."""
        return {
            "SLUICE_POSTGRES_URL": self.postgres_url,
            "SLUICE_MONGO_URL": self.mongo_url,
            "SLUICE_BACKUP_BUCKET": self.bucket,
        }


def products_of(source: Source) -> int:
    """How many of the seeded products the scratch database holds now."""
    with connect(source.postgres_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM products WHERE source = %s", (source.product_source,)
        ).fetchone()[0]


def with_path(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def source(stack, settings, sluice_cli) -> Iterator[Source]:
    """Scratch PostgreSQL and MongoDB databases, migrated and seeded; dropped afterwards."""
    name = f"sluice_bktest_{uuid.uuid4().hex[:8]}"
    with connect(settings.postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    client = mongo_client(settings.mongo_url, timeout=120)
    found = Source(
        name=name,
        postgres_url=with_path(settings.postgres_url, name),
        mongo_url=with_path(settings.mongo_url, name),
        mongo_db=client[name],
        product_source=f"test-{uuid.uuid4().hex[:8]}.localhost",
        bucket=name.replace("_", "-"),
    )
    store = ObjectStore(settings)
    store.ensure_bucket(found.bucket)
    try:
        result = sluice_cli("migrate", env=found.env)
        assert result.returncode == 0, result.stderr
        seed_postgres(found)
        seed_mongo(found)
        yield found
    finally:
        store.delete_folder(found.bucket, "")
        store.client.delete_bucket(Bucket=found.bucket)
        client.drop_database(name)
        client.close()
        with connect(settings.postgres_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def seed_postgres(source: Source) -> None:
    """Products with price history, quotes, a crawl run and a rejected item's raw bytes."""
    seen = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    with connect(source.postgres_url) as conn:
        for i in range(PRODUCTS):
            product_id = conn.execute(
                "INSERT INTO products (source, external_id, name, brand, category, price, "
                "currency, availability, rating, review_count, url, first_seen_at, "
                "last_seen_at) VALUES (%s, %s, %s, %s, %s, %s, 'EUR', 'in_stock', %s, %s, %s, "
                "%s, %s) RETURNING id",
                (
                    source.product_source,
                    f"sku-{i}",
                    # Characters COPY must escape: tab, newline, backslash; and non-ASCII.
                    f"Widget {i}\twith\nnewline \\ and ü",
                    None if i % 3 else "Acme",
                    "tools",
                    f"{i + 1}.2500",
                    None if i % 4 else "4.50",
                    i,
                    f"http://{source.product_source}/p/{i}",
                    seen,
                    seen + timedelta(days=1),
                ),
            ).fetchone()[0]
            for day in range(2):
                conn.execute(
                    "INSERT INTO product_prices (product_id, price, currency, observed_at) "
                    "VALUES (%s, %s, 'EUR', %s)",
                    (product_id, f"{i + day + 1}.00", seen + timedelta(days=day)),
                )
        for i in range(10):
            conn.execute(
                "INSERT INTO quotes (symbol, price, currency, as_of, trade_date, source, "
                "fetched_at, volume) VALUES (%s, %s, 'USD', %s, %s, 'market.localhost', %s, %s)",
                (f"T{i}", "10.5", seen, seen.date(), seen, 1000 * i),
            )
        conn.execute(
            "INSERT INTO crawl_runs (crawl_id, spider, params, stats, started_at) "
            "VALUES (%s, 'ecommerce', %s, '{}', %s)",
            (f"crawl-{source.name}", '{"start_urls": ["http://x/"], "n": 1.5}', seen),
        )
        conn.execute(
            'INSERT INTO rejected_items (topic, partition, "offset", stage, reason, payload) '
            "VALUES ('sluice.raw.products', 0, 1, 'normalize', 'invalid_item', %s)",
            (b"\xff\xfe not utf-8 \x00\n",),
        )


def seed_mongo(source: Source) -> None:
    """Raw envelopes in raw_items (indexed by `sluice migrate`) and a small indexed collection."""
    fetched = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    source.mongo_db.raw_items.insert_many(
        {
            "_id": f"{i:064x}",
            "source": source.product_source,
            "external_id": f"sku-{i}",
            "fetched_at": fetched + timedelta(seconds=i),
            "crawl_id": f"crawl-{source.name}",
            "envelope": {"item": {"name": f"Widget {i}", "price": f"{i}.25", "tags": [i, None]}},
            "raw": bytes([i % 256]) * 3,
        }
        for i in range(RAW_DOCUMENTS)
    )
    source.mongo_db.notes.insert_many({"_id": i, "text": f"note {i}"} for i in range(NOTES))
    source.mongo_db.notes.create_index([("text", 1)], name="text_1")
