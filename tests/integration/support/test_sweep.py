"""The session sweep removes what a session created and keeps what came before it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

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
    source with a product and a document; and the sweep finished."""

    tag: str
    before: str
    during: str
    scratch: str


def _archive(settings):
    client = mongo.client(settings.mongo_url, timeout=300)
    return client, client[urlsplit(settings.mongo_url).path.lstrip("/")]["raw_items"]


@pytest.fixture(scope="module")
def swept(settings, migrated) -> Iterator[Swept]:
    # One sweep for the module's tests: each reads a different store after it.
    tag = uuid.uuid4().hex[:8]
    world = Swept(tag, f"sweep-before-{tag}", f"sweep-during-{tag}", f"sweep{tag}-a.localhost")
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
        conn.execute(
            "INSERT INTO products (source, external_id, name, price, currency, url, "
            "first_seen_at, last_seen_at) VALUES (%s, 'SKU-1', 'Widget', 1, 'USD', "
            "'http://x/', now(), now())",
            (world.scratch,),
        )
    sweep.finish()
    yield world
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
