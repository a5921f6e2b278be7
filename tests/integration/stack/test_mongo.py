"""The MongoDB-wire server of the native stack (FerretDB), through pymongo."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pymongo
import pytest
from pymongo.errors import DuplicateKeyError

from sluice.storage.mongo import client

pytestmark = pytest.mark.mongo


@pytest.fixture
def collection(stack, settings):
    conn = client(settings.mongo_url)
    db = conn[f"sluice_test_{uuid.uuid4().hex[:8]}"]
    yield db["raw_items"]
    conn.drop_database(db.name)
    conn.close()


def test_ping(stack, settings):
    with client(settings.mongo_url) as conn:
        assert conn.admin.command("ping")["ok"] == 1.0


def test_insert_index_and_query(collection):
    start = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    docs = [
        {
            "_id": f"h{i}",
            "source": "shop.localhost" if i % 2 else "market.localhost",
            "external_id": f"sku-{i % 4}",
            "fetched_at": start + timedelta(minutes=i),
            "item": {"price": f"{10 + i}.99"},
        }
        for i in range(12)
    ]
    assert len(collection.insert_many(docs).inserted_ids) == 12

    name = collection.create_index(
        [("source", pymongo.ASCENDING), ("external_id", pymongo.ASCENDING), ("fetched_at", -1)]
    )
    assert name in collection.index_information()

    found = list(
        collection.find({"source": "shop.localhost", "external_id": "sku-1"}).sort("fetched_at", -1)
    )
    assert [d["_id"] for d in found] == ["h9", "h5", "h1"]
    assert found[0]["fetched_at"] == start + timedelta(minutes=9)
    assert collection.count_documents({"item.price": "15.99"}) == 1


def test_unique_index_refuses_a_duplicate(collection):
    collection.create_index("content_hash", unique=True)
    collection.insert_one({"content_hash": "abc"})
    with pytest.raises(DuplicateKeyError):
        collection.insert_one({"content_hash": "abc"})
    assert collection.count_documents({}) == 1
