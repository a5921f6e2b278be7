"""Worker-pool replicas as real processes (`sluice worker`), for crawl tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from sluice.settings import Settings


def start_replica(settings: Settings, log: Path, slots: int = 4) -> subprocess.Popen:
    """One `sluice worker` on ``settings``' Redis, with short claims and leases so takeovers
    (of a killed replica's slots, of a killed worker's pages) are quick."""
    env = {**os.environ, "SLUICE_REDIS_URL": settings.redis_url, "SLUICE_METRICS_PORT": "0",
           "SLUICE_POOL_CLAIM_TTL": "5", "SLUICE_LEASE_TTL": "10"}  # fmt: skip
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("sluice")), "worker", "--slots", str(slots),
         "--poll", "0.5"],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip


@contextmanager
def replicas(settings: Settings, folder: Path, count: int) -> Iterator[list[subprocess.Popen]]:
    """``count`` pool replicas, stopped (SIGTERM, as a scale-down would) at the end."""
    started = [start_replica(settings, folder / f"pool-{n}.log") for n in range(count)]
    try:
        yield started
    finally:
        for replica in started:
            if replica.poll() is None:
                replica.send_signal(signal.SIGTERM)
        for replica in started:
            replica.wait(60)


class ProcessSampler(threading.Thread):
    """Counts a crawl's Scrapy processes every 0.5 s; keeps the largest count seen."""

    def __init__(self, crawl_id: str) -> None:
        super().__init__(daemon=True)
        self.marker = f"crawl_id={crawl_id}"
        self.most = 0
        self.stopped = threading.Event()

    def count(self) -> int:
        """Scrapy processes of the crawl running now."""
        found = 0
        for process in psutil.process_iter(["cmdline"]):
            line = process.info["cmdline"] or []
            if "scrapy" in line and self.marker in line:
                found += 1
        return found

    def run(self) -> None:
        """Sample until stopped."""
        while not self.stopped.is_set():
            self.most = max(self.most, self.count())
            self.stopped.wait(0.5)
