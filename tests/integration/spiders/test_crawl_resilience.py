"""Crash safety: a worker killed with SIGKILL, Redis restarted, Kafka unreachable."""

from __future__ import annotations

import signal

import pytest

from sluice.crawl import runner
from tests.support.crawling import DEMO_DAY, TopicReader, crawl_status, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.kafka]

#: short leases, so a killed worker's requests come back within seconds
FAST_LEASES = {"SLUICE_LEASE_TTL": "3", "CONCURRENT_REQUESTS": "8"}


def pages(settings, crawl_id: str) -> int:
    return crawl_status(settings, crawl_id).stats.get("downloader/response_count", 0)


def published_ids(reader: TopicReader, crawl_id: str) -> set[str]:
    return {env["item"]["external_id"] for _, env in reader.read("sluice.raw.products", crawl_id)}


def test_a_worker_killed_mid_crawl_and_a_fresh_one_finish_with_nothing_lost(
    stack, settings, demo, catalog, tmp_path
):
    demo.reset()
    reader = TopicReader(settings)
    seeded = runner.seed_crawl(settings, "ecommerce", [f"{demo.base}/shop/"])
    first = runner.start_worker(
        settings, "ecommerce", seeded.crawl_id, tmp_path / "first.log", FAST_LEASES
    )
    wait_for(lambda: pages(settings, seeded.crawl_id) >= 120, 120, what="120 pages")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    interrupted = crawl_status(settings, seeded.crawl_id)
    assert interrupted.in_flight > 0 or interrupted.queued > 0, "killed after the crawl ended"

    second = runner.start_worker(
        settings, "ecommerce", seeded.crawl_id, tmp_path / "second.log", FAST_LEASES
    )
    assert second.wait(300) == 0, (tmp_path / "second.log").read_text()[-3000:]
    status = crawl_status(settings, seeded.crawl_id)
    assert status.done and status.finished
    assert status.stats.get("scheduler/lease_lapsed", 0) > 0
    expected = catalog.expected_public_products(DEMO_DAY, base_url=demo.base)
    assert published_ids(reader, seeded.crawl_id) == set(expected)
    reader.close()


def test_an_unreachable_kafka_fails_the_crawl_loudly_and_keeps_its_requests(
    stack, settings, demo, sluice_cli
):
    result = sluice_cli(
        "crawl",
        "finance",
        "--start-url",
        f"{demo.base}/market/quotes",
        "--date",
        DEMO_DAY.isoformat(),
        "-s",
        'KAFKA_CONNECTION={"bootstrap.servers": "127.0.0.1:1"}',
        "-s",
        "KAFKA_FLUSH_TIMEOUT=3",
        timeout=120,
    )
    assert result.returncode == 1
    assert "FAILED" in result.stdout
    assert "Kafka deliveries failed" in result.stderr
    crawl_id = result.stdout.split()[1]
    status = crawl_status(settings, crawl_id)
    # The pages whose items were not delivered were never acknowledged: nothing is lost.
    assert not status.done
    assert status.stats.get("kafka/delivered", 0) == 0
