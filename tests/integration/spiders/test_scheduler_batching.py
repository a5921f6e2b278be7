"""The scheduler's batched round trips on the stack's real Redis: a response's links are
admitted together, pops lease several requests, and a lease is acknowledged only once the
links its response yielded are in the queue."""

from __future__ import annotations

import uuid

import pytest
import redis
from scrapy import Request
from scrapy.utils.test import get_crawler

from sluice.crawl.leases import LeasedQueue
from sluice.storage.redis import client
from spiders.leasing import LEASE_META
from spiders.scheduler import LeasedScheduler
from spiders.spiders.ecommerce import EcommerceSpider

pytestmark = pytest.mark.redis

SHOP = "http://batching.localhost"


@pytest.fixture
def scheduler(stack, settings):
    crawler = get_crawler(
        EcommerceSpider,
        {"REDIS_URL": settings.redis_url, "SLUICE_LEASE_BATCH": 4, "DEFAULT_HOST_RATE": 0},
    )
    spider = EcommerceSpider.from_crawler(crawler, crawl_id=f"test-{uuid.uuid4().hex[:10]}")
    crawler.spider = spider
    scheduler = LeasedScheduler.from_crawler(crawler)
    scheduler.open(spider)
    yield scheduler
    scheduler.close("finished")
    server = client(settings.redis_url, decode=False)
    server.delete(*LeasedQueue(server, scheduler.keys).every_key())


def page(scheduler: LeasedScheduler, path: str) -> Request:
    return Request(f"{SHOP}/{path}", callback=scheduler.spider.parse_page)


def test_a_lease_is_acknowledged_only_once_its_links_are_queued(scheduler, monkeypatch):
    scheduler.enqueue_request(page(scheduler, "list"))
    scheduler.tick()
    parent = scheduler.next_request()
    lease_id = parent.meta[LEASE_META]
    # What the engine hands over from the parent's response: links, repeats, the parent again.
    links = ["p/1", "p/2", "p/1", "list", "p/3", "p/2"]
    staged = [scheduler.enqueue_request(page(scheduler, path)) for path in links]
    scheduler.book.complete(parent)

    def away(*args, **kwargs):
        raise redis.ConnectionError("Redis is away")

    monkeypatch.setattr(scheduler.df.bloom, "admit_many", away)
    scheduler.tick()
    server, keys = scheduler.server, scheduler.keys
    held_while_away = (server.zscore(keys.leases, lease_id) is not None, scheduler.queue.state())
    monkeypatch.undo()
    scheduler.tick()
    state = scheduler.queue.state()
    assert staged == [True, True, False, False, True, False]
    # While the links could not be queued, the parent's lease stayed: a crash then loses nothing.
    assert (held_while_away[0], held_while_away[1].queued) == (True, 0)
    assert (server.zscore(keys.leases, lease_id), state.queued, state.in_flight) == (None, 3, 0)


def test_a_pop_leases_a_batch_that_the_worker_hands_out_one_by_one(scheduler):
    for n in range(6):
        scheduler.enqueue_request(page(scheduler, f"p/{n}"))
    scheduler.tick()
    first = scheduler.next_request()
    after_one = scheduler.queue.state()
    rest = [scheduler.next_request() for _ in range(5)]
    assert (first.url, after_one.queued, after_one.in_flight) == (f"{SHOP}/p/0", 2, 4)
    assert [r.url for r in rest] == [f"{SHOP}/p/{n}" for n in range(1, 6)]
    assert len({r.meta[LEASE_META] for r in [first, *rest]}) == 6


def test_leases_taken_but_not_handed_out_go_back_at_a_graceful_stop(scheduler):
    for n in range(4):
        scheduler.enqueue_request(page(scheduler, f"p/{n}"))
    scheduler.tick()
    scheduler.next_request()
    scheduler.close("shutdown")
    lease, requeued = LeasedQueue(scheduler.server, scheduler.keys).pop()
    # All four leases were given back (the handed-out one too: it was never completed).
    assert (requeued, lease.data is not None) == (4, True)
