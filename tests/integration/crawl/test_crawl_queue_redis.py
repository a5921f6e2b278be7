"""The leased queue and the Bloom duplicate filter on the stack's real Redis."""

from __future__ import annotations

import time
import uuid

import pytest

from sluice.crawl.bloom import Admission, BloomParams, RedisBloom
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import LeasedQueue, now_ms
from sluice.crawl.politeness import Politeness
from sluice.storage.redis import client

pytestmark = pytest.mark.redis

#: a host with no politeness interval recorded (the queues' default: none)
HOST = "queue-test.localhost"


@pytest.fixture
def keys(stack, settings):
    keys = CrawlKeys(f"test-{uuid.uuid4().hex[:10]}")
    yield keys
    server = client(settings.redis_url)
    server.delete(*LeasedQueue(server, keys).every_key())


@pytest.fixture
def server(stack, settings):
    return client(settings.redis_url, decode=False)


def test_pops_are_leases_in_priority_order_and_acks_finish_them(server, keys):
    queue = LeasedQueue(server, keys, lease_ttl=30)
    queue.push_many([(b"low", HOST, 0), (b"high", HOST, 10), (b"mid", HOST, 5)])
    popped = [queue.pop()[0] for _ in range(3)]
    assert [lease.data for lease in popped] == [b"high", b"mid", b"low"]
    assert queue.pop() == (None, 0)
    state = queue.state()
    assert (state.queued, state.in_flight, state.done) == (0, 3, False)
    queue.ack([lease.lease_id for lease in popped])
    assert queue.state().done


def test_a_lapsed_lease_goes_back_to_the_queue_and_a_renewed_one_does_not(server, keys):
    queue = LeasedQueue(server, keys, lease_ttl=0.5)
    queue.push_many([(b"abandoned", HOST, 0), (b"kept", HOST, 0)])
    abandoned, _ = queue.pop()
    kept, _ = queue.pop()
    for _ in range(4):
        time.sleep(0.2)
        assert queue.renew([kept.lease_id]) == 1
    again, requeued = queue.pop()
    assert requeued == 1
    assert again.data == abandoned.data and again.lease_id != abandoned.lease_id
    # The lapsed lease is gone: renewing or acknowledging it changes nothing.
    assert queue.renew([abandoned.lease_id]) == 0
    queue.ack([abandoned.lease_id, kept.lease_id, again.lease_id])
    assert queue.state().done


def test_release_gives_a_lease_back_at_once(server, keys):
    queue = LeasedQueue(server, keys, lease_ttl=60)
    queue.push(b"request", HOST)
    lease, _ = queue.pop()
    queue.release([lease.lease_id])
    again, requeued = queue.pop()
    assert requeued == 1 and again.data == b"request"


def test_bloom_admits_each_fingerprint_once_and_queues_it_in_the_same_step(server, keys):
    bloom = RedisBloom(
        server, keys.bloom, keys.seen, BloomParams(capacity=10_000, error_rate=0.001)
    )
    admitted = [
        bloom.admit(f"fp-{i % 500}", keys, f"req-{i % 500}".encode(), HOST, 0) for i in range(1500)
    ]
    assert sum(admitted) == 500
    assert bloom.count() == 500
    assert LeasedQueue(server, keys).state().queued == 500


def test_bloom_memory_is_bounded_by_its_parameters(server, keys):
    params = BloomParams(capacity=20_000, error_rate=0.01)
    bloom = RedisBloom(server, keys.bloom, keys.seen, params)
    for i in range(20_000):
        bloom.add(f"https://shop.example/p/{i}")
    assert bloom.memory_bytes() <= params.bytes
    # The false-positive rate on fresh fingerprints stays near the configured one.
    false_positives = sum(bloom.add(f"https://other.example/{i}") for i in range(5_000))
    assert false_positives / 5_000 < 0.02


def test_a_pop_retried_after_a_lost_reply_leases_nothing_more(server, keys, monkeypatch):
    # redis-py retries a script whose reply a dropped connection lost, with the same lease id.
    # The retry must hand back the same request, not lease another under that id (which would
    # overwrite the first lease, and that request would never be fetched).
    queue = LeasedQueue(server, keys, lease_ttl=30)
    queue.push_many([(b"first", HOST, 10), (b"second", HOST, 5)])
    monkeypatch.setattr("sluice.crawl.leases.uuid.uuid4", lambda: uuid.UUID(int=7))
    lease, _ = queue.pop()
    retried, _ = queue.pop()
    assert retried == lease and lease.data == b"first"
    state = queue.state()
    assert (state.queued, state.in_flight) == (1, 1)
    monkeypatch.undo()
    assert queue.pop()[0].data == b"second"


def test_requests_of_equal_priority_leave_first_in_first_out(server, keys):
    queue = LeasedQueue(server, keys, lease_ttl=30)
    arrivals = [b"zeta", b"alpha", b"mu", b"beta"]  # not in byte order
    for data in arrivals:
        queue.push(data, HOST, priority=0)
    queue.push(b"urgent", HOST, priority=5)
    popped = [queue.pop()[0].data for _ in range(5)]
    assert popped == [b"urgent", *arrivals]


def test_a_page_budget_caps_the_leases_of_the_whole_crawl(server, keys):
    first = LeasedQueue(server, keys, lease_ttl=30, page_budget=3)
    second = LeasedQueue(server, keys, lease_ttl=30, page_budget=3)  # another worker
    first.push_many([(f"r{n}".encode(), HOST, 0) for n in range(10)])
    leased = [q.pop()[0] for q in (first, second, first, second, first)]
    state = first.state()
    assert (sum(lease is not None for lease in leased), state.budget_spent) == (3, True)


def test_a_paused_site_is_skipped_and_the_others_are_leased(server, keys):
    slow, fast = f"slow-{keys.crawl_id}.localhost", f"fast-{keys.crawl_id}.localhost"
    Politeness(server).pause(slow, now_ms() + 60_000)
    queue = LeasedQueue(server, keys, lease_ttl=30, lookahead_ms=0)
    queue.push_many([(b"slow-1", slow, 10), (b"fast-1", fast, 0), (b"fast-2", fast, 0)])
    leased = [queue.pop()[0] for _ in range(3)]
    assert [lease and lease.data for lease in leased] == [b"fast-1", b"fast-2", None]


def test_a_sites_requests_are_leased_one_interval_apart(server, keys):
    site = f"paced-{keys.crawl_id}.localhost"
    Politeness(server).set_interval(site, 60_000)
    queue = LeasedQueue(server, keys, lease_ttl=30, lookahead_ms=0)
    queue.push_many([(b"first", site, 0), (b"second", site, 0)])
    first, _, _ = queue.pop_or_wait()
    second, _, wait = queue.pop_or_wait()
    assert (first.data, second, 55 < wait <= 60) == (b"first", None, True)


# --- batched round trips ---------------------------------------------------------------------


def test_a_batch_admits_each_request_once_inside_it_and_against_the_filter(server, keys):
    bloom = RedisBloom(
        server, keys.bloom, keys.seen, BloomParams(capacity=10_000, error_rate=0.001)
    )
    assert bloom.admit("fp-0", keys, b"req-0", HOST, 0)  # an earlier response's link
    batch = [Admission(f"req-{i % 5}".encode(), HOST, 0, f"fp-{i % 5}") for i in range(12)]
    batch.append(Admission(b"retry-of-req-0", HOST, 0, None))  # dont_filter: always queued
    admitted, count = bloom.admit_many(keys, batch)
    queue = LeasedQueue(server, keys, lease_ttl=30)
    leased, _, _ = queue.pop_many(50)
    # fp-0 was seen before the batch; fp-1..4 once each, their repeats filtered.
    assert [i for i, ok in enumerate(admitted) if ok] == [1, 2, 3, 4, 12]
    assert count == 5 == bloom.count()
    assert sorted(lease.data for lease in leased) == sorted(
        [b"req-0", b"req-1", b"req-2", b"req-3", b"req-4", b"retry-of-req-0"]
    )


def test_a_pop_of_several_leases_each_request_once_and_a_retry_hands_the_same_back(
    server, keys, monkeypatch
):
    queue = LeasedQueue(server, keys, lease_ttl=30)
    queue.push_many([(f"r{n}".encode(), HOST, 0) for n in range(5)])
    monkeypatch.setattr("sluice.crawl.leases.uuid.uuid4", lambda: uuid.UUID(int=9))
    first, _, _ = queue.pop_many(3)
    retried, _, _ = queue.pop_many(3)  # the same call again after a lost reply
    monkeypatch.undo()
    rest, _, _ = queue.pop_many(3)
    state = queue.state()
    assert [lease.data for lease in first] == [b"r0", b"r1", b"r2"]
    assert (retried, [lease.data for lease in rest]) == (first, [b"r3", b"r4"])
    assert len({lease.lease_id for lease in first + rest}) == 5
    assert (state.queued, state.in_flight) == (0, 5)


def test_a_retried_pop_whose_first_lease_is_gone_leases_nothing_under_the_same_ids(
    server, keys, monkeypatch
):
    queue = LeasedQueue(server, keys, lease_ttl=30)
    queue.push_many([(f"r{n}".encode(), HOST, 0) for n in range(5)])
    monkeypatch.setattr("sluice.crawl.leases.uuid.uuid4", lambda: uuid.UUID(int=11))
    first, _, _ = queue.pop_many(3)
    queue.ack([first[0].lease_id])  # done (or lapsed and requeued) before the retry comes
    retried, _, _ = queue.pop_many(3)  # the same call again after a lost reply
    state = queue.state()
    # The retry hands back the two leases still out and takes nothing from the queue.
    assert (retried, state.queued, state.in_flight) == (first[1:], 2, 2)


def test_a_pop_of_several_takes_a_paced_sites_next_turn_only_once(server, keys):
    paced, free = f"paced-{keys.crawl_id}.localhost", f"free-{keys.crawl_id}.localhost"
    Politeness(server).set_interval(paced, 60_000)
    queue = LeasedQueue(server, keys, lease_ttl=30, lookahead_ms=0, page_budget=4)
    queue.push_many([(b"paced-1", paced, 10), (b"paced-2", paced, 10)])
    time.sleep(0.01)  # the paced site's turn came first
    queue.push_many([(f"free-{n}".encode(), free, 0) for n in range(4)])
    leased, _, _ = queue.pop_many(10)
    # One of the paced site's requests per interval; the crawl's budget of 4 still binds.
    assert [lease.data for lease in leased] == [b"paced-1", b"free-0", b"free-1", b"free-2"]
    assert queue.state().budget_spent
