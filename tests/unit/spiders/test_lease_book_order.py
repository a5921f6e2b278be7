"""The lease book's flush: what is remembered of durable items is remembered only once the
items are durable, and before the leases are acknowledged."""

from __future__ import annotations

import pytest

from spiders.leasing import LeaseBook


class Queue:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def ack(self, ids: list[str]) -> None:
        self.log.append("ack")


def book_with_a_completed_lease(log: list[str]) -> LeaseBook:
    book = LeaseBook(Queue(log))
    book.hold("lease-1")
    book.completed.append("lease-1")
    book.held.discard("lease-1")
    return book


def test_durable_then_remembered_then_acknowledged():
    log: list[str] = []
    book = book_with_a_completed_lease(log)
    book.before_ack.append(lambda: log.append("durable"))
    book.after_durable.append(lambda: log.append("remembered"))
    book.flush()
    assert log == ["durable", "remembered", "ack"]


def test_nothing_is_remembered_when_the_items_could_not_be_made_durable():
    log: list[str] = []
    book = book_with_a_completed_lease(log)

    def kafka_down() -> None:
        raise RuntimeError("Kafka did not confirm")

    book.before_ack.append(kafka_down)
    book.after_durable.append(lambda: log.append("remembered"))
    with pytest.raises(RuntimeError):
        book.flush()
    assert log == []
