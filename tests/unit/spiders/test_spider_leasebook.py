"""LeaseBook in spiders/leasing.py, against a fake queue (no Redis)."""

from __future__ import annotations

import logging

import pytest
import redis
from scrapy import Request

from spiders.leasing import LEASE_META, LeaseBook, lease_of


class FakeQueue:
    """Records ack/renew/release calls; ``failing`` names methods that raise RedisError."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.failing: set[str] = set()

    def _record(self, method: str, ids: list[str]) -> None:
        self.calls.append((method, list(ids)))
        if method in self.failing:
            raise redis.RedisError(f"{method}: Redis is away")

    def ack(self, ids: list[str]) -> None:
        self._record("ack", ids)

    def renew(self, ids: list[str]) -> int:
        self._record("renew", ids)
        return len(ids)

    def release(self, ids: list[str]) -> None:
        self._record("release", ids)


def leased(lease_id: str | None, **meta) -> Request:
    if lease_id is not None:
        meta[LEASE_META] = lease_id
    return Request("https://shop.example/", meta=meta)


@pytest.fixture
def queue() -> FakeQueue:
    return FakeQueue()


@pytest.fixture
def book(queue: FakeQueue) -> LeaseBook:
    return LeaseBook(queue)


def test_lease_of_reads_the_request_meta():
    assert lease_of(leased("a")) == "a"
    assert lease_of(leased(None)) is None


def test_complete_moves_a_held_lease_to_completed(book: LeaseBook):
    book.hold("a")
    book.hold("b")
    request = leased("a")

    book.complete(request)

    assert book.held == {"b"}
    assert book.completed == ["a"]
    assert LEASE_META not in request.meta  # completing twice cannot count it twice
    book.complete(request)
    assert book.completed == ["a"]
    assert book.outstanding == 2


def test_complete_only_counts_held_leases(book: LeaseBook):
    book.hold("a")

    book.complete(leased("not-held"))  # e.g. a lease this worker already released
    book.complete(leased(None))  # not from the shared queue
    book.complete(leased(""))

    assert book.completed == []
    assert book.held == {"a"}


def test_flush_with_nothing_completed_does_not_touch_queue_or_hooks(
    book: LeaseBook, queue: FakeQueue
):
    hooks: list[str] = []
    book.before_ack.append(lambda: hooks.append("hook"))
    book.hold("a")

    assert book.flush() == 0

    assert hooks == []
    assert queue.calls == []


def test_flush_runs_every_hook_before_the_ack(book: LeaseBook, queue: FakeQueue):
    order: list[str] = []
    book.before_ack.append(lambda: order.append(f"hook1 after {len(queue.calls)} calls"))
    book.before_ack.append(lambda: order.append(f"hook2 after {len(queue.calls)} calls"))
    for lease_id in ("a", "b", "c"):
        book.hold(lease_id)
    book.complete(leased("a"))
    book.complete(leased("b"))

    assert book.flush() == 2

    assert order == ["hook1 after 0 calls", "hook2 after 0 calls"]
    assert queue.calls == [("ack", ["a", "b"])]
    assert book.completed == []
    assert book.held == {"c"}
    assert book.outstanding == 1


def test_a_failing_hook_leaves_the_leases_unacknowledged(book: LeaseBook, queue: FakeQueue):
    class DeliveryError(RuntimeError):
        pass

    def kafka_flush() -> None:
        raise DeliveryError("2 Kafka deliveries failed")

    later: list[str] = []
    book.before_ack.append(kafka_flush)
    book.before_ack.append(lambda: later.append("ran"))
    book.hold("a")
    book.complete(leased("a"))

    with pytest.raises(DeliveryError, match="2 Kafka deliveries failed"):
        book.flush()

    assert queue.calls == []  # never acknowledged: the lease lapses and the request is redone
    assert later == []
    assert book.completed == ["a"]
    assert book.outstanding == 1


def test_a_redis_error_during_ack_keeps_the_leases_for_the_next_flush(
    book: LeaseBook, queue: FakeQueue, caplog: pytest.LogCaptureFixture
):
    book.hold("a")
    book.complete(leased("a"))
    queue.failing.add("ack")

    with caplog.at_level(logging.WARNING, logger="spiders.leasing"):
        assert book.flush() == 0
    assert "could not acknowledge 1 leases" in caplog.text
    assert book.completed == ["a"]

    # Completed meanwhile, then Redis is back: one ack for both.
    book.hold("b")
    book.complete(leased("b"))
    queue.failing.clear()
    assert book.flush() == 2

    assert queue.calls == [("ack", ["a"]), ("ack", ["a", "b"])]
    assert book.completed == []
    assert book.outstanding == 0


def test_a_lease_completed_by_a_hook_during_flush_is_kept_for_the_next_flush(
    book: LeaseBook, queue: FakeQueue
):
    book.hold("a")
    book.hold("b")
    book.complete(leased("a"))
    book.before_ack.append(lambda: book.complete(leased("b")))

    assert book.flush() == 1

    assert queue.calls == [("ack", ["a"])]
    assert book.completed == ["b"]


def test_renew_covers_held_and_completed_leases(book: LeaseBook, queue: FakeQueue):
    for lease_id in ("a", "b", "c"):
        book.hold(lease_id)
    book.complete(leased("b"))

    book.renew()

    ((method, ids),) = queue.calls
    assert method == "renew"
    assert sorted(ids) == ["a", "b", "c"]


def test_renew_survives_a_redis_error(
    book: LeaseBook, queue: FakeQueue, caplog: pytest.LogCaptureFixture
):
    book.hold("a")
    queue.failing.add("renew")

    with caplog.at_level(logging.WARNING, logger="spiders.leasing"):
        book.renew()

    assert "could not renew 1 leases" in caplog.text
    assert book.held == {"a"}
    queue.failing.clear()
    book.renew()
    assert queue.calls == [("renew", ["a"]), ("renew", ["a"])]


def test_release_held_gives_back_unfinished_leases_only(book: LeaseBook, queue: FakeQueue):
    for lease_id in ("a", "b"):
        book.hold(lease_id)
    book.complete(leased("b"))

    book.release_held()

    assert queue.calls == [("release", ["a"])]
    assert book.held == set()
    assert book.completed == ["b"]  # still to be acknowledged after its output is durable


def test_release_held_with_nothing_held_does_not_call_redis(book: LeaseBook, queue: FakeQueue):
    book.release_held()

    assert queue.calls == []


def test_release_held_forgets_the_leases_even_when_redis_fails(
    book: LeaseBook, queue: FakeQueue, caplog: pytest.LogCaptureFixture
):
    book.hold("a")
    book.hold("b")
    queue.failing.add("release")

    with caplog.at_level(logging.WARNING, logger="spiders.leasing"):
        book.release_held()

    assert "could not release 2 leases" in caplog.text
    assert book.held == set()  # they lapse on their own in Redis
