"""Pages/s of Sluice's distributed crawl against plain Scrapy, on the same demo shop.

    python -m bench.crawl_throughput [--rounds 2] [--pools]

Runs, side by side on one demo shop served by a process of its own (so that the site is not
what limits several workers):
- plain Scrapy: the same ``ecommerce`` spider and pipelines with Scrapy's in-memory
  scheduler and duplicate filter (the baseline);
- Sluice, 1 worker: the scrapy-redis scheduler with leases and the Redis Bloom filter;
- Sluice, 2 workers: the same crawl shared by two worker processes;
- two plain Scrapy crawls at once, each of the whole shop: what this machine allows two
  crawling processes beside the site (the ceiling of the 2-worker row);
- with ``--pools``, Sluice through 3 pool replicas: three `sluice worker` processes claiming
  the 2 workers of a dispatched crawl, as a scaled-out cluster runs it (with the project's own
  Scrapy settings, AutoThrottle on, as deployed).
Every run crawls the whole shop (about 580 pages, 545 products published to Kafka) with
AutoThrottle off, so the figures compare the crawling machinery, not politeness delays; each
figure is the median of ``--rounds`` runs, and a run's time includes its processes' start.
Needs the stack (`sluice stack up`).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from bench import shop
from bench.figures import Expected, Figure, Goal, Quantity, complete, print_figures
from bench.steps import SharedStepFailed, attempt
from sluice.crawl import registry, runner
from sluice.crawl.keys import CrawlKeys
from sluice.settings import load_settings
from sluice.storage.redis import client

log = logging.getLogger(__name__)

PLAIN = "plain Scrapy"
ONE_WORKER = Expected(
    "crawl_one_worker_vs_scrapy",
    "Sluice 1 worker ÷ plain Scrapy, same demo shop",
    Goal(">=", 0.95),
    "Sluice, 1 worker",
    PLAIN,
)
TWO_WORKERS = Expected(
    "crawl_two_workers_vs_scrapy",
    "Sluice 2 workers ÷ plain Scrapy, demo site in its own process",
    Goal(">=", 1.7),
    "Sluice, 2 workers",
    PLAIN,
)
TWO_PLAIN = Expected(
    "crawl_two_plain_vs_one",
    "two plain Scrapy crawls at once ÷ one (what this machine allows the row above)",
    None,
    "two plain Scrapy crawls",
    PLAIN,
)
POOLS = Expected(
    "crawl_pools_vs_scrapy",
    "Sluice 3 pool replicas, 2 workers ÷ plain Scrapy (AutoThrottle on)",
    None,
    "3 pools, 2 workers",
    PLAIN,
)
ROWS = (ONE_WORKER, TWO_WORKERS, TWO_PLAIN)

#: the same for every run: no throttling, the slow page kept short
COMMON = {"AUTOTHROTTLE_ENABLED": "False", "LOG_LEVEL": "INFO", "CONCURRENT_REQUESTS": "16"}


def plain_scrapy(base: str, settings) -> tuple[int, float]:
    """One crawl with Scrapy's own scheduler in one process; (pages, seconds)."""
    overrides = {
        **COMMON,
        "SCHEDULER": "scrapy.core.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy.dupefilters.RFPDupeFilter",
        "CRAWL_STATS_SYNC": "False",
    }
    argv = [sys.executable, "-m", "scrapy", "crawl", "ecommerce", "-a", f"start_urls={base}/shop/"]
    for name, value in overrides.items():
        argv += ["-s", f"{name}={value}"]
    began = time.monotonic()
    result = subprocess.run(
        argv, cwd=settings.project_dir, capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - began
    if result.returncode != 0:
        raise RuntimeError(f"plain Scrapy run failed:\n{result.stderr[-2000:]}")
    pages = _stat(result.stderr, "downloader/response_count")
    return pages, seconds


def two_plain_scrapy(base: str, settings) -> tuple[int, float]:
    """Two independent plain Scrapy crawls of the whole shop at once; (pages of both, seconds
    until both ended): the ceiling this machine sets for two crawling processes."""
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: plain_scrapy(base, settings), range(2)))
    return sum(pages for pages, _ in runs), max(seconds for _, seconds in runs)


def _stat(log: str, name: str) -> int:
    marker = f"'{name}': "
    at = log.rfind(marker)
    if at < 0:
        raise RuntimeError(f"no {name} in the crawl's stats")
    digits = log[at + len(marker) :].split(",", 1)[0].split("}", 1)[0]
    return int(digits.strip())


def sluice_crawl(base: str, settings, workers: int) -> tuple[int, float]:
    """One crawl through the shared Redis queue with ``workers`` processes; (pages, seconds)."""
    began = time.monotonic()
    seeded = runner.seed_crawl(settings, "ecommerce", [f"{base}/shop/"])
    log_dir = settings.stack_dir / "logs" / "crawls" / seeded.crawl_id
    procs = [
        runner.start_worker(settings, "ecommerce", seeded.crawl_id, log_dir / f"w{i}.log", COMMON)
        for i in range(workers)
    ]
    codes = [proc.wait() for proc in procs]
    seconds = time.monotonic() - began
    if any(codes):
        raise RuntimeError(f"Sluice crawl failed (exit codes {codes}); logs in {log_dir}")
    status = registry.status(client(settings.redis_url, decode=False), CrawlKeys(seeded.crawl_id))
    return status.stats.get("downloader/response_count", 0), seconds


def pool_crawl(base: str, settings, replicas: int, workers: int) -> tuple[int, float]:
    """One crawl dispatched to ``replicas`` pool replicas wanting ``workers`` workers, on a
    Redis database of its own; (pages, seconds)."""
    own = replace(settings, redis_url=urlsplit(settings.redis_url)._replace(path="/5").geturl())
    server = client(own.redis_url, decode=False)
    server.flushdb()
    log_dir = settings.stack_dir / "logs" / "bench-pools"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SLUICE_REDIS_URL": own.redis_url, "SLUICE_METRICS_PORT": "0"}
    sluice = str(Path(sys.executable).with_name("sluice"))
    pools = [
        subprocess.Popen(
            [sluice, "worker", "--poll", "0.5"], env=env,
            stdout=(log_dir / f"pool-{n}.log").open("w"), stderr=subprocess.STDOUT,
        )
        for n in range(replicas)
    ]  # fmt: skip
    try:
        began = time.monotonic()
        seeded = runner.seed_crawl(own, "ecommerce", [f"{base}/shop/"])
        registry.dispatch(server, seeded.crawl_id, workers)
        while seeded.crawl_id in registry.dispatched(server):
            time.sleep(0.2)
        seconds = time.monotonic() - began
        status = registry.status(server, CrawlKeys(seeded.crawl_id))
    finally:
        for pool in pools:
            pool.terminate()
        for pool in pools:
            pool.wait(60)
        server.flushdb()
    if status.failure:
        raise RuntimeError(f"the pooled crawl failed: {status.failure}")
    return status.stats.get("downloader/response_count", 0), seconds


class Rounds:
    """Pages/s of each setup over several rounds, the setups taking turns within a round so
    that a machine whose load drifts weighs on all of them alike."""

    def __init__(self, setups: dict[str, Callable[[], tuple[int, float]]]) -> None:
        self.setups = setups
        self.rates: dict[str, list[float]] = {name: [] for name in setups}
        self.failures: dict[str, Exception] = {}

    def run(self, rounds: int) -> None:
        """Run every setup ``rounds`` times; a setup that fails is logged once and dropped."""
        for _ in range(rounds):
            for name, crawl in self.setups.items():
                if name in self.failures:
                    continue
                try:
                    pages, seconds = crawl()
                except Exception as exc:  # reported in the setup's rows; the others go on
                    log.exception("crawl setup=%s failed", name)
                    self.failures[name] = exc
                    continue
                self.rates[name].append(pages / seconds)
                log.info("crawl setup=%s pages=%d elapsed=%.1fs", name, pages, seconds)

    def median(self, name: str) -> Quantity:
        """The median pages/s of setup ``name``."""
        if name in self.failures:
            error = self.failures[name]
            raise SharedStepFailed(f"{name} failed: {type(error).__name__}: {error}")
        return Quantity(statistics.median(self.rates[name]), "pages/s")


def measure(settings, rounds: int, pools: bool = False) -> list[Figure]:
    """Every row of :data:`ROWS` (and, with ``pools``, the pool row), each measured or marked
    unmeasured with the reason."""
    rows = (*ROWS, POOLS) if pools else ROWS
    with shop.running(slow_seconds=0.2) as base:
        setups = {
            PLAIN: lambda: plain_scrapy(base, settings),
            ONE_WORKER.sluice_side: lambda: sluice_crawl(base, settings, 1),
            TWO_WORKERS.sluice_side: lambda: sluice_crawl(base, settings, 2),
            TWO_PLAIN.sluice_side: lambda: two_plain_scrapy(base, settings),
        }
        if pools:
            setups[POOLS.sluice_side] = lambda: pool_crawl(base, settings, 3, 2)
        taken = Rounds(setups)
        taken.run(rounds)
    note = f"median of {rounds} run(s) each, taking turns; whole shop, AutoThrottle off"
    figures = [
        *attempt(
            [ONE_WORKER],
            lambda: [
                ONE_WORKER.measured(taken.median(ONE_WORKER.sluice_side), taken.median(PLAIN), note)
            ],
        ),
        *attempt(
            [TWO_WORKERS],
            lambda: [
                TWO_WORKERS.measured(
                    taken.median(TWO_WORKERS.sluice_side), taken.median(PLAIN), note
                )
            ],
        ),
        *attempt(
            [TWO_PLAIN],
            lambda: [
                TWO_PLAIN.measured(taken.median(TWO_PLAIN.sluice_side), taken.median(PLAIN), note)
            ],
        ),
    ]
    if pools:
        figures += attempt(
            [POOLS],
            lambda: [
                POOLS.measured(
                    taken.median(POOLS.sluice_side),
                    taken.median(PLAIN),
                    f"median of {rounds} run(s), pools with the project's Scrapy settings",
                )
            ],
        )
    return complete(rows, figures, "the benchmark returned no figure for it")


def main(argv: list[str] | None = None) -> list[Figure]:
    """Measure, print and return the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="runs per setup (the median counts)")
    parser.add_argument("--pools", action="store_true", help="also crawl through 3 pool replicas")
    args = parser.parse_args(argv)
    figures = measure(load_settings(), args.rounds, args.pools)
    print_figures(figures)
    return figures


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main()
