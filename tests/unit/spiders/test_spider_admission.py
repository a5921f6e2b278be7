"""Batched admission in the duplicate filter (spiders/dupefilter.py), against a fake filter:
what a worker drops without a round trip, what one flush sends, and that a failed flush keeps
the batch."""

from __future__ import annotations

import pytest
import redis
from scrapy import Request
from scrapy.utils.request import RequestFingerprinter

from sluice.crawl.bloom import BloomParams
from sluice.crawl.keys import CrawlKeys
from spiders.dupefilter import BloomDupeFilter


class FakeServer:
    """Just enough of a Redis client for the filter's constructor."""

    def register_script(self, script):
        return None


class FakeBloom:
    """Records each batch; admits what it has not seen (as the real script does, in order)."""

    def __init__(self) -> None:
        self.params = BloomParams(capacity=1_000, error_rate=0.01)
        self.seen: set = set()
        self.batches: list[list] = []
        self.failing = False

    def admit_many(self, keys, admissions):
        self.batches.append(list(admissions))
        if self.failing:
            raise redis.ConnectionError("Redis is away")
        admitted = []
        for admission in admissions:
            new = admission.fingerprint is None or admission.fingerprint not in self.seen
            if admission.fingerprint is not None:
                self.seen.add(admission.fingerprint)
            admitted.append(new)
        return admitted, len(self.seen)


@pytest.fixture
def dupefilter() -> BloomDupeFilter:
    df = BloomDupeFilter(
        FakeServer(), CrawlKeys("unit"), BloomParams(1_000, 0.01), RequestFingerprinter()
    )
    df.bloom = FakeBloom()
    return df


def encode(request: Request) -> bytes:
    return request.url.encode()


def page(n: int, **kwargs) -> Request:
    return Request(f"https://shop.example/p/{n}", **kwargs)


def test_one_flush_sends_the_batch_once_without_its_inner_duplicates(dupefilter):
    staged = [dupefilter.stage(page(n), encode) for n in (1, 2, 1, 3, 2)]
    queued = dupefilter.flush()
    assert staged == [True, True, False, True, False]
    assert [r.url[-1] for r in queued] == ["1", "2", "3"]
    assert [len(batch) for batch in dupefilter.bloom.batches] == [3]


def test_a_duplicate_the_filter_answered_for_is_dropped_without_a_round_trip(dupefilter):
    dupefilter.stage(page(1), encode)
    dupefilter.flush()
    again = dupefilter.stage(page(1), encode)
    dupefilter.flush()  # nothing staged: no round trip
    assert (again, len(dupefilter.bloom.batches)) == (False, 1)


def test_a_request_another_worker_queued_is_filtered_by_the_flush(dupefilter):
    dupefilter.bloom.seen.add(dupefilter.request_fingerprint(page(7)))
    dupefilter.stage(page(7), encode)
    assert dupefilter.flush() == []
    # Now known here: the next one is dropped without asking.
    assert dupefilter.stage(page(7), encode) is False


def test_dont_filter_requests_are_queued_unfiltered_every_time(dupefilter):
    dupefilter.stage(page(1), encode)
    dupefilter.flush()
    retried = [dupefilter.stage(page(1, dont_filter=True), encode) for _ in range(2)]
    queued = dupefilter.flush()
    assert (retried, len(queued)) == ([True, True], 2)
    assert [a.fingerprint for a in dupefilter.bloom.batches[-1]] == [None, None]


def test_a_failed_flush_keeps_the_batch_for_the_next_try(dupefilter):
    dupefilter.stage(page(1), encode)
    dupefilter.stage(page(2), encode)
    dupefilter.bloom.failing = True
    with pytest.raises(redis.ConnectionError):
        dupefilter.flush()
    # Not yet known: an equal request is still a duplicate of the staged one, not lost.
    assert dupefilter.stage(page(1), encode) is False
    dupefilter.bloom.failing = False
    assert [r.url[-1] for r in dupefilter.flush()] == ["1", "2"]


def test_an_unencodable_request_is_not_staged(dupefilter):
    def refuse(request):
        raise TypeError("not JSON")

    with pytest.raises(TypeError):
        dupefilter.stage(page(1), refuse)
    nothing_staged = dupefilter.staged == []
    # Its fingerprint was not taken: a good copy of it is staged later.
    assert (nothing_staged, dupefilter.stage(page(1), encode)) == (True, True)
