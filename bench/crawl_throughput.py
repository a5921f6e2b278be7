"""Pages/s of Sluice's distributed crawl against plain Scrapy, on the same demo shop.

    .venv/bin/python -m bench.crawl_throughput [--rounds 2] [--workers 2]

Runs, side by side on one demo shop served in this process:
- plain Scrapy: the same ``ecommerce`` spider and pipelines with Scrapy's in-memory
  scheduler and duplicate filter (the baseline);
- Sluice, 1 worker: the scrapy-redis scheduler with leases and the Redis Bloom filter;
- Sluice, N workers: the same crawl shared by N worker processes.
Every run crawls the whole shop (about 580 pages, 545 products published to Kafka) with
AutoThrottle off, so the figures compare the crawling machinery, not politeness delays.
Needs the stack (`sluice stack up`). Prints one row per run and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

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
    print(f"{'setup':<28} {'pages/s':>9} {'vs plain Scrapy':>16}")
    for name, rate in results.items():
        print(f"{name:<28} {rate:9.1f} {rate / baseline:15.2f}x")


if __name__ == "__main__":
    main()
