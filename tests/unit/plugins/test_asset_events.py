"""What a crawl's Asset event tells data_quality: the crawl run that updated the partition."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from plugins.operators.asset_events import crawls_named, record_crawl


def event(crawl_id: str | None, minute: int) -> SimpleNamespace:
    extra = {"crawl_id": crawl_id} if crawl_id else {}
    return SimpleNamespace(extra=extra, timestamp=datetime(2026, 3, 4, 22, minute, tzinfo=UTC))


def test_the_newest_crawl_of_each_asset_is_named():
    events = {
        "quotes": [event("finance-a", 1), event("finance-b", 9), event("finance-c", 5)],
        "crawl_ecommerce": [event("ecommerce-a", 2)],
    }
    assert crawls_named(events) == ["ecommerce-a", "finance-b"]


def test_events_that_name_no_crawl_name_nothing():
    # e.g. an event an analyst posted through the REST API, with no extra
    assert crawls_named({"quotes": [event(None, 1)]}) == []


def test_a_recorded_event_carries_its_day_and_crawl():
    class Outlet:
        def __init__(self):
            self.extra, self.keys = {}, []

        def add_partitions(self, key):
            self.keys.append(key)

    outlet = Outlet()
    record_crawl(outlet, "2026-03-04", "finance-x")
    assert (outlet.keys, outlet.extra) == (["2026-03-04"], {"crawl_id": "finance-x"})
