"""Pages/s of Sluice's distributed crawl against plain Scrapy, on the same demo shop.

    .venv/bin/python -m bench.crawl_throughput [--rounds 2] [--workers 2]

Runs, side by side on one demo shop served in this process:
- plain Scrapy: the same ``ecommerce`` spider and pipelines with Scrapy's in-memory
  scheduler and duplicate filter (the baseline);
- Sluice, 1 worker: the scrapy-redis scheduler with leases and the Redis Bloom filter;
- Sluice, N workers: the same crawl shared by N worker processes;
- Sluice through 3 pool replicas: three `sluice worker` processes claiming the N workers of a
  dispatched crawl, as a scaled-out cluster runs it (with the project's own Scrapy settings,
  AutoThrottle on, as deployed).
Every run crawls the whole shop (about 580 pages, 545 products published to Kafka) with
AutoThrottle off, so the figures compare the crawling machinery, not politeness delays.
Needs the stack (`sluice stack up`). Prints one row per run and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from demo.server import BackgroundServer
from sluice.crawl import registry, runner
from sluice.crawl.keys import CrawlKeys
from sluice.settings import load_settings
from sluice.storage.redis import client

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
        raise SystemExit(f"plain Scrapy run failed:\n{result.stderr[-2000:]}")
    pages = _stat(result.stderr, "downloader/response_count")
    return pages, seconds


def _stat(log: str, name: str) -> int:
    marker = f"'{name}': "
    at = log.rfind(marker)
    if at < 0:
        raise SystemExit(f"no {name} in the crawl's stats")
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
        raise SystemExit(f"Sluice crawl failed (exit codes {codes}); logs in {log_dir}")
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
        raise SystemExit(f"the pooled crawl failed: {status.failure}")
    return status.stats.get("downloader/response_count", 0), seconds


def main() -> None:
    """Run every setup ``--rounds`` times and print the medians side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    settings = load_settings()
    shop = BackgroundServer(slow_seconds=0.2)
    setups = {
        "plain Scrapy (baseline)": lambda: plain_scrapy(shop.base, settings),
        "Sluice, 1 worker": lambda: sluice_crawl(shop.base, settings, 1),
        f"Sluice, {args.workers} workers": lambda: sluice_crawl(shop.base, settings, args.workers),
        f"Sluice, 3 pools, {args.workers} workers": lambda: pool_crawl(
            shop.base, settings, 3, args.workers
        ),
    }
    results = {}
    for name, run in setups.items():
        rates = []
        for _ in range(args.rounds):
            pages, seconds = run()
            rates.append(pages / seconds)
            print(f"  {name}: {pages} pages in {seconds:.1f}s", file=sys.stderr)
        results[name] = statistics.median(rates)
    shop.stop()
    baseline = results["plain Scrapy (baseline)"]
    if args.json:
        print(
            json.dumps({k: {"pages_per_s": v, "ratio": v / baseline} for k, v in results.items()})
        )
        return
    print(f"{'setup':<32} {'pages/s':>9} {'vs plain Scrapy':>16}")
    for name, rate in results.items():
        print(f"{name:<32} {rate:9.1f} {rate / baseline:15.2f}x")


if __name__ == "__main__":
    main()
