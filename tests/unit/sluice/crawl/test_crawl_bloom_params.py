"""BloomParams (sluice/crawl/bloom.py), CrawlKeys (keys.py) and the crawl summary (runner.py)."""

from __future__ import annotations

import math

import pytest

from sluice.crawl.bloom import MAX_BITS, BloomParams
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.registry import CrawlStatus
from sluice.crawl.runner import summary

# --- BloomParams ------------------------------------------------------------------------------


def test_size_for_a_million_items_at_one_percent():
    params = BloomParams(capacity=1_000_000, error_rate=0.01)

    textbook_bits = -1_000_000 * math.log(0.01) / math.log(2) ** 2  # 9_585_058.38
    assert params.bits == math.ceil(textbook_bits) == 9_585_059
    assert params.hashes == round(params.bits / 1_000_000 * math.log(2)) == 7
    assert params.bytes == 1_198_133  # about 1.14 MiB


@pytest.mark.parametrize(
    ("capacity", "error_rate", "bits", "hashes"),
    [
        (1_000, 0.001, 14_378, 10),
        (10_000_000, 0.0001, 191_701_168, 13),
        (10, 0.99, 1, 1),  # at least one hash, however loose the filter
    ],
)
def test_size_follows_the_formula(capacity, error_rate, bits, hashes):
    params = BloomParams(capacity, error_rate)

    assert params.bits == bits
    assert params.hashes == hashes


def test_a_stricter_error_rate_needs_more_bits_and_hashes():
    loose, strict = BloomParams(100_000, 0.05), BloomParams(100_000, 0.001)

    assert strict.bits > loose.bits
    assert strict.hashes > loose.hashes


def test_offsets_are_k_deterministic_positions_inside_the_bitmap():
    params = BloomParams(1_000_000, 0.01)
    fingerprint = "3f786850e387550fdab836ed7e6dc881de23001b"

    offsets = params.offsets(fingerprint)

    assert len(offsets) == params.hashes == 7
    assert all(0 <= offset < params.bits for offset in offsets)
    assert params.offsets(fingerprint) == offsets
    assert BloomParams(1_000_000, 0.01).offsets(fingerprint) == offsets  # across instances
    assert params.offsets(fingerprint.encode()) == offsets  # str and bytes alike
    assert len(set(offsets)) == len(offsets)
    assert params.offsets(fingerprint[:-1] + "c") != offsets


def test_offsets_stay_inside_a_tiny_bitmap():
    params = BloomParams(capacity=3, error_rate=0.3)

    for i in range(200):
        offsets = params.offsets(f"fp-{i}")
        assert len(offsets) == params.hashes
        assert all(0 <= offset < params.bits for offset in offsets)


def test_offsets_spread_over_the_bitmap():
    params = BloomParams(1_000, 0.01)
    hit = {offset for i in range(1_000) for offset in params.offsets(f"fp-{i}")}

    # 1,000 items x 7 hashes over 9,586 bits: about half the bits set, as the design expects.
    assert 0.4 * params.bits < len(hit) < 0.6 * params.bits


@pytest.mark.parametrize("capacity", [0, -5])
def test_capacity_must_be_positive(capacity):
    with pytest.raises(ValueError, match=rf"capacity must be positive, got {capacity}"):
        BloomParams(capacity, 0.01)


@pytest.mark.parametrize("error_rate", [0, 1, 1.5, -0.01, float("nan")])
def test_error_rate_must_be_between_zero_and_one(error_rate):
    with pytest.raises(ValueError, match=r"error rate must be in \(0, 1\), got"):
        BloomParams(1_000, error_rate)


def test_a_filter_larger_than_a_redis_string_is_refused():
    with pytest.raises(ValueError, match=rf"needs 95850583774 bits, .*\({MAX_BITS}\)"):
        BloomParams(10_000_000_000, 0.01)


def test_the_largest_filter_fits_in_a_redis_string():
    # 448 million items at 1%: just under 512 MiB.
    assert BloomParams(448_000_000, 0.01).bits <= MAX_BITS
    with pytest.raises(ValueError):
        BloomParams(449_000_000, 0.01)


# --- CrawlKeys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "crawl_id",
    ["a", "7", "ecommerce-20261120T080000Z-1a2b3c", "team:finance.daily_run-2", "x" * 128],
)
def test_valid_crawl_ids(crawl_id):
    assert CrawlKeys(crawl_id).crawl_id == crawl_id


@pytest.mark.parametrize(
    "crawl_id",
    ["", "-starts-with-dash", ":x", "has space", "a/b", "a*b", "x" * 129, "é", "a\tb"],
)
def test_invalid_crawl_ids_are_rejected(crawl_id):
    with pytest.raises(ValueError, match="must be 1-128 letters, digits"):
        CrawlKeys(crawl_id)


def test_a_crawl_id_with_a_trailing_newline_is_rejected():
    try:
        CrawlKeys("crawl-1\n")
    except ValueError:
        return
    raise AssertionError("'crawl-1\\n' accepted: its keys contain a newline")


def test_every_key_starts_with_the_crawl_prefix():
    keys = CrawlKeys("ecommerce-1")

    assert keys.prefix == "sluice:crawl:ecommerce-1"
    every = keys.all()
    assert every == [
        "sluice:crawl:ecommerce-1:hosts",
        "sluice:crawl:ecommerce-1:queued",
        "sluice:crawl:ecommerce-1:leases",
        "sluice:crawl:ecommerce-1:leased",
        "sluice:crawl:ecommerce-1:pop_calls",
        "sluice:crawl:ecommerce-1:sequence",
        "sluice:crawl:ecommerce-1:leased_pages",
        "sluice:crawl:ecommerce-1:claims",
        "sluice:crawl:ecommerce-1:failed",
        "sluice:crawl:ecommerce-1:bloom",
        "sluice:crawl:ecommerce-1:seen",
        "sluice:crawl:ecommerce-1:meta",
        "sluice:crawl:ecommerce-1:stats",
        "sluice:crawl:ecommerce-1:workers",
    ]
    assert all(key.startswith(keys.prefix + ":") for key in every)
    # all() lists every key property, so a cleanup by all() misses nothing (the per-host
    # queues under queue_prefix are found through the hosts set).
    properties = [
        name
        for name, value in vars(CrawlKeys).items()
        if isinstance(value, property) and name not in ("prefix", "queue_prefix")
    ]
    assert sorted(every) == sorted(getattr(keys, name) for name in properties)


def test_keys_of_two_crawls_never_overlap():
    # "a" is a prefix of "a:b" as a string, but the key sets must stay apart.
    one, other = set(CrawlKeys("a").all()), set(CrawlKeys("a:b").all())

    assert not one & other


# --- runner.summary ---------------------------------------------------------------------------


def status(
    stats: dict[str, int] | None = None, queued: int = 0, in_flight: int = 0, spider="ecommerce"
) -> CrawlStatus:
    return CrawlStatus(
        crawl_id="ecommerce-1",
        spider=spider,
        queued=queued,
        in_flight=in_flight,
        workers=0,
        stats=stats or {},
        meta={"spider": spider, "finished_at": "1763600000"},
    )


FINISHED_STATS = {
    "downloader/response_count": 120,
    "item_valid/ecommerce": 80,
    "item_valid/finance": 999,  # another spider's counter is not this crawl's items
    "kafka/delivered": 80,
    "kafka/produced": 80,
    "dupefilter/filtered": 35,
    "retry/count": 4,
    "scheduler/lease_lapsed": 2,
    "worker_finish/finished": 2,
    "drop_item/ecommerce/no_price": 3,
    "drop_item/ecommerce/invalid/currency": 1,
    "drop_item/ecommerce/unknown_schema": 2,
    "drop_item/oddity": 9,  # no reason part: not a drop by reason
    "item_unchanged/ecommerce": 30,
    "downloader/response_bytes": 456_789,
    "error/TimeoutError": 2,
    "error/DNSLookupError": 1,
}


def test_a_clean_crawl_is_ok():
    report = summary(status(FINISHED_STATS), duration=12.3456, exit_codes=[0, 0])

    assert report == {
        "crawl_id": "ecommerce-1",
        "spider": "ecommerce",
        "ok": True,
        "status": "done",
        "problems": [],
        "failed_pages": {},
        "pages": 120,
        "items": 80,
        "unchanged": 30,
        "published": 80,
        "bytes": 456_789,
        "dropped": {"invalid/currency": 1, "no_price": 3, "unknown_schema": 2},
        "errors": {"DNSLookupError": 1, "TimeoutError": 2},
        "duplicates_filtered": 35,
        "retries": 4,
        "requeued_after_lapse": 2,
        "duration_s": 12.35,
    }


def test_a_crawl_with_failed_pages_is_partial_and_lists_them_by_reason():
    failures = {
        "http://x.test/b": {"reason": "timeout", "request": "{}"},
        "http://x.test/a": {"reason": "http_503", "request": "{}"},
        "http://x.test/c": {"reason": "timeout", "request": "{}"},
    }
    report = summary(status(FINISHED_STATS), duration=1.0, exit_codes=[0], failures=failures)
    assert (report["ok"], report["status"], report["failed_pages"]) == (
        True,
        "partial",
        {"http_503": ["http://x.test/a"], "timeout": ["http://x.test/b", "http://x.test/c"]},
    )


def test_an_empty_crawl_is_ok_with_zero_counts():
    report = summary(status(), duration=0.0, exit_codes=[])

    assert report["ok"] is True
    assert (report["pages"], report["items"], report["published"]) == (0, 0, 0)
    assert report["dropped"] == {} and report["errors"] == {}


@pytest.mark.parametrize(
    ("stats", "problem"),
    [
        ({"kafka/delivery_failed": 2}, "2 Kafka deliveries failed"),
        ({"kafka/undelivered": 5}, "5 Kafka deliveries failed"),
        ({"kafka/delivery_failed": 2, "kafka/undelivered": 5}, "7 Kafka deliveries failed"),
        ({"worker_finish/kafka_delivery_failed": 1}, "1 worker(s) stopped: kafka_delivery_failed"),
        ({"worker_finish/shutdown": 2}, "2 worker(s) stopped: shutdown"),
        ({"scheduler/unqueued": 4}, "4 requests could not be queued (see logs)"),
    ],
)
def test_problems_from_stats(stats, problem):
    report = summary(status({**FINISHED_STATS, **stats}), duration=1.0, exit_codes=[0])

    assert report["ok"] is False
    assert report["problems"] == [problem]


def test_a_worker_that_exited_badly_is_a_problem():
    report = summary(status(FINISHED_STATS), duration=1.0, exit_codes=[0, -9, 1])

    assert report["ok"] is False
    assert report["problems"] == ["worker exit codes [0, -9, 1]"]


@pytest.mark.parametrize(("queued", "in_flight"), [(3, 0), (0, 1), (3, 1)])
def test_work_left_is_a_problem(queued, in_flight):
    report = summary(status(FINISHED_STATS, queued, in_flight), duration=1.0, exit_codes=[0])

    assert report["ok"] is False
    assert report["problems"] == [f"{queued} requests still queued, {in_flight} in flight"]


def test_every_problem_is_listed():
    stats = {
        **FINISHED_STATS,
        "kafka/delivery_failed": 1,
        "worker_finish/shutdown": 1,
        "worker_finish/closespider_timeout": 1,
        "scheduler/unqueued": 2,
    }

    report = summary(status(stats, queued=5, in_flight=2), duration=1.0, exit_codes=[0, 1])

    assert report["problems"] == [
        "1 Kafka deliveries failed",
        "1 worker(s) stopped: closespider_timeout",
        "1 worker(s) stopped: shutdown",
        "worker exit codes [0, 1]",
        "2 requests could not be queued (see logs)",
        "5 requests still queued, 2 in flight",
    ]


def test_zero_valued_problem_counters_are_not_problems():
    stats = {**FINISHED_STATS, "kafka/delivery_failed": 0, "scheduler/unqueued": 0}

    assert summary(status(stats), duration=1.0, exit_codes=[0])["ok"] is True
