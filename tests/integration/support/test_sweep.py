"""The session sweep removes what a session created and keeps what came before it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from sluice.crawl import registry
from sluice.crawl.keys import CrawlKeys
from sluice.storage import mongo, postgres
from sluice.storage import redis as redis_storage
from tests.support.sweep import SessionSweep


@dataclass
class Swept:
    """Two crawls, one created before the sweep opened and one after, each with an archived
    document; a document of a crawl with no record, archived after the sweep opened; a scratch
    source with a product and a document; a product of a kept source with one observation from
    before and one from the unrecorded crawl; and the sweep finished."""

    tag: str
    before: str
    during: str
    scratch: str
    kept: str


def _archive(settings):
    client = mongo.client(settings.mongo_url, timeout=300)
    return client, client.get_default_database()["raw_items"]


@pytest.fixture(scope="module")
def swept(settings, migrated) -> Iterator[Swept]:
    # One sweep for the module's tests: each reads a different store after it.
    tag = uuid.uuid4().hex[:8]
    world = Swept(
        tag,
        f"sweep-before-{tag}",
        f"sweep-during-{tag}",
        f"sweep{tag}-a.localhost",
        f"sweepkeep{tag}.localhost",
    )
    server = redis_storage.client(settings.redis_url)
    registry.create(server, CrawlKeys(world.before), "ecommerce", ["http://shop.localhost/"])
    server.hset(CrawlKeys(world.before).meta, "created_at", int(time.time()) - 3600)
    sweep = SessionSweep(settings, scratch_prefixes=(f"sweep{tag}-",))
    registry.create(server, CrawlKeys(world.during), "ecommerce", ["http://shop.localhost/"])
    client, raw_items = _archive(settings)
    raw_items.insert_many(
        [
            {
                "_id": f"{tag}-before",
                "crawl_id": world.before,
                "source": "shop.localhost",
                "received_at": datetime.now(UTC) - timedelta(hours=1),
            },
            {"_id": f"{tag}-during", "crawl_id": world.during, "source": "shop.localhost"},
            {"_id": f"{tag}-scratch", "crawl_id": f"other-{tag}", "source": world.scratch},
            # A crawl with no record to find it by, archived during the session.
            {
                "_id": f"{tag}-unrecorded",
                "crawl_id": f"unrecorded-{tag}",
                "source": "shop.localhost",
                "received_at": datetime.now(UTC),
            },
        ]
    )
    with postgres.connect(settings.postgres_url, autocommit=True) as conn:
        for source in (world.scratch, world.kept):
            conn.execute(
                "INSERT INTO products (source, external_id, name, price, currency, url, "
                "first_seen_at, last_seen_at) VALUES (%s, 'SKU-1', 'Widget', 1, 'USD', "
                "'http://x/', now() - interval '2 hours', now())",
                (source,),
            )
        # The kept product's history: one observation before the session, one by a crawl
        # that only the archive knows.
        for crawl_id, hours in ((world.before, 2), (f"unrecorded-{tag}", 0)):
            conn.execute(
                "INSERT INTO product_prices (product_id, price, currency, availability, "
                "observed_at, crawl_id) SELECT id, 1, 'USD', 'in_stock', "
                "now() - make_interval(hours => %s), %s FROM products WHERE source = %s",
                (hours, crawl_id, world.kept),
            )
    sweep.finish()
    yield world
    with postgres.connect(settings.postgres_url, autocommit=True) as conn:
        conn.execute("DELETE FROM products WHERE source = %s", (world.kept,))
    raw_items.delete_many({"_id": {"$regex": f"^{tag}-"}})
    client.close()
    server.delete(CrawlKeys(world.before).meta, CrawlKeys(world.during).meta)


def test_the_sweep_keeps_only_the_archive_of_a_crawl_from_before_the_session(settings, swept):
    client, raw_items = _archive(settings)
    with client:
        left = {doc["_id"] for doc in raw_items.find({"_id": {"$regex": f"^{swept.tag}-"}})}
    assert left == {f"{swept.tag}-before"}


def test_the_sweep_drops_the_keys_of_the_session_crawl_only(settings, swept):
    server = redis_storage.client(settings.redis_url)
    kept = [bool(server.exists(CrawlKeys(c).meta)) for c in (swept.before, swept.during)]
    assert kept == [True, False]


def test_the_sweep_drops_the_products_of_a_scratch_source(settings, swept):
    with postgres.connect(settings.postgres_url) as conn:
        count = conn.execute(
            "SELECT count(*) FROM products WHERE source = %s", (swept.scratch,)
        ).fetchone()[0]
    assert count == 0


def test_the_sweep_drops_the_price_history_of_a_crawl_only_the_archive_knows(settings, swept):
    with postgres.connect(settings.postgres_url) as conn:
        crawls = conn.execute(
            "SELECT pp.crawl_id FROM product_prices pp JOIN products p ON p.id = pp.product_id "
            "WHERE p.source = %s",
            (swept.kept,),
        ).fetchall()
    assert crawls == [(swept.before,)]
