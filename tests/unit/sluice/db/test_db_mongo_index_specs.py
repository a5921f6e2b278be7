"""Which raw_items indexes exist, which to create, and clashes (a fake database, no server)."""

from __future__ import annotations

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from sluice.db.mongo_indexes import (
    RAW_ITEMS_INDEXES,
    IndexSpec,
    MongoIndexError,
    ensure_indexes,
    missing_indexes,
)


class FakeCollection:
    def __init__(self) -> None:
        self.indexes: dict[str, dict[str, float]] = {"_id_": {"_id": 1}}
        self.down = False

    def list_indexes(self):
        if self.down:
            raise ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused")
        return [{"name": name, "key": dict(key)} for name, key in self.indexes.items()]

    def create_index(self, keys, name):
        self.indexes[name] = {field: float(direction) for field, direction in keys}
        return name


class FakeDatabase:
    name = "sluice"

    def __init__(self) -> None:
        self.collection = FakeCollection()

    def __getitem__(self, name: str) -> FakeCollection:
        assert name == "raw_items"
        return self.collection


def test_the_design_indexes_are_declared():
    keys = {spec.keys for spec in RAW_ITEMS_INDEXES}
    assert (("source", 1), ("external_id", 1), ("fetched_at", 1)) in keys
    assert (("crawl_id", 1),) in keys
    assert (("schema", 1), ("fetched_at", 1)) in keys
    assert len({spec.name for spec in RAW_ITEMS_INDEXES}) == len(RAW_ITEMS_INDEXES)


def test_ensure_creates_what_is_missing_and_then_nothing():
    db = FakeDatabase()
    assert missing_indexes(db) == list(RAW_ITEMS_INDEXES)
    assert ensure_indexes(db) == [spec.name for spec in RAW_ITEMS_INDEXES]
    assert missing_indexes(db) == []
    assert ensure_indexes(db) == []


def test_the_same_keys_under_another_name_count_as_present():
    db = FakeDatabase()
    db.collection.indexes["crawl_id_1"] = {"crawl_id": 1.0}
    assert "crawl_id" not in ensure_indexes(db)
    assert "crawl_id" not in db.collection.indexes


def test_a_name_with_other_keys_is_a_clash_with_a_fix():
    db = FakeDatabase()
    db.collection.indexes["crawl_id"] = {"crawl_id": -1.0}
    with pytest.raises(MongoIndexError, match=r"raw_items\.crawl_id exists with keys") as error:
        ensure_indexes(db)
    assert "dropIndex('crawl_id')" in error.value.fix


def test_an_unreachable_server_is_one_readable_line():
    db = FakeDatabase()
    db.collection.down = True
    with pytest.raises(MongoIndexError, match="Connection refused") as error:
        missing_indexes(db)
    assert "sluice stack up" in error.value.fix


def test_describe_names_collection_index_and_keys():
    spec = IndexSpec("recent", (("source", 1), ("fetched_at", -1)))
    assert spec.describe() == "raw_items.recent (source, fetched_at desc)"
