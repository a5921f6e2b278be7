"""Starting a crawl from outside Scrapy: seed the shared queue, run N workers, summarise.

`sluice crawl` uses this, and so do the Airflow operators: the crawl's state lives in Redis,
so any process can seed it, any number of workers (here, or on Kubernetes) can work on it,
and anyone can watch it.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sluice.crawl import registry
from sluice.crawl.bloom import BloomParams
from sluice.crawl.keys import CrawlKeys
from sluice.settings import Settings
from sluice.storage.redis import client

#: prctl option: the signal a process gets when its parent dies (linux/prctl.h)
PR_SET_PDEATHSIG = 1


def new_crawl_id(spider: str) -> str:
    """``<spider>-<UTC timestamp>-<random>``: sortable and unique."""
    return f"{spider}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def scrapy_settings(overrides: dict[str, Any] | None = None):
    """The project's Scrapy settings (``spiders.settings``) with ``overrides`` applied."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "spiders.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def spider_class(name: str, settings) -> type:
    """The spider class registered under ``name``; KeyError lists the known ones."""
    from scrapy.spiderloader import SpiderLoader

    loader = SpiderLoader.from_settings(settings)
    try:
        return loader.load(name)
    except KeyError as exc:
        raise KeyError(f"no spider {name!r}; known spiders: {', '.join(loader.list())}") from exc


@dataclass(frozen=True)
class SeededCrawl:
    """A crawl ready for workers."""

    crawl_id: str
    spider: str
    queued: int


def seed_crawl(
    settings: Settings,
    spider: str,
    start_urls: list[str],
    params: dict[str, Any] | None = None,
    crawl_id: str | None = None,
) -> SeededCrawl:
    """Record a crawl and queue its start requests; workers may join at any time after."""
    from scrapy.utils.request import RequestFingerprinter

    from spiders.urls import canonicalize

    scrapy_conf = scrapy_settings()
    cls = spider_class(spider, scrapy_conf)
    urls = [canonicalize(url) for url in start_urls]
    requests = cls.seed_requests(urls, params or {})
    crawl_id = crawl_id or new_crawl_id(spider)
    keys = CrawlKeys(crawl_id)
    server = client(settings.redis_url, decode=False, retries=5)
    bloom = bloom_for(spider, params or {}, scrapy_conf)
    registry.create(server, keys, spider, urls, params, bloom)
    fingerprinter = RequestFingerprinter()
    queued = registry.seed(
        server,
        keys,
        [request.to_dict() for request in requests],
        [fingerprinter.fingerprint(request) for request in requests],
        bloom,
    )
    return SeededCrawl(crawl_id=crawl_id, spider=spider, queued=queued)


def bloom_for(spider: str, params: dict[str, Any], scrapy_conf) -> BloomParams:
    """The duplicate filter of a new crawl, sized for the pages it is expected to make: the
    run's ``expected_pages``, else its spider's spec, else ``DUPEFILTER_CAPACITY``.

    A Bloom bitmap costs its full size as soon as a random bit near its end is set, so a
    filter sized for ten million requests costs 24 MB even for a 50-page crawl.
    """
    from sluice.crawl.specs import crawl_spec

    expected = int(params.get("expected_pages") or 0)
    if not expected:
        try:
            expected = crawl_spec(spider).expected_pages
        except KeyError:
            expected = scrapy_conf.getint("DUPEFILTER_CAPACITY")
    return BloomParams(capacity=expected, error_rate=scrapy_conf.getfloat("DUPEFILTER_ERROR_RATE"))


def start_worker(
    settings: Settings,
    spider: str,
    crawl_id: str,
    log_file: Path,
    overrides: dict[str, str] | None = None,
) -> subprocess.Popen:
    """One worker process: ``scrapy crawl SPIDER -a crawl_id=...`` in the project directory."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "scrapy", "crawl", spider, "-a", f"crawl_id={crawl_id}"]
    for name, value in (overrides or {}).items():
        argv += ["-s", f"{name}={value}"]
    argv += ["-s", f"LOG_FILE={log_file}"]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "spiders.settings"}
    return subprocess.Popen(
        argv,
        cwd=settings.project_dir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        preexec_fn=stop_with_parent(),
    )


def stop_with_parent() -> Callable[[], None] | None:
    """What a new worker runs before it starts: ask Linux to SIGKILL it when the process that
    started it dies.

    A pool replica killed with SIGKILL would otherwise leave its workers running unclaimed,
    and the replica that takes their slots over would start a second worker for each. The
    signal is SIGKILL, not SIGTERM: a graceful Scrapy stop on a loaded machine can outlast the
    dead replica's claims, and then two workers hold one slot. Killing is safe: a worker acks
    a request only after Kafka confirmed its items, so its unfinished requests go back to the
    queue when their leases expire. libc is loaded here, in the parent: between fork and exec
    the child only makes the one call.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    return functools.partial(prctl, PR_SET_PDEATHSIG, signal.SIGKILL)


#: `sluice crawl`'s exit status for a crawl that ended with pages that failed (and nothing lost)
PARTIAL_EXIT = 3


def failed_pages(failures: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Failed page URLs by reason, sorted."""
    by_reason: dict[str, list[str]] = {}
    for url, entry in sorted(failures.items()):
        by_reason.setdefault(entry["reason"], []).append(url)
    return by_reason


def summary(
    status: registry.CrawlStatus,
    duration: float,
    exit_codes: list[int],
    failures: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The end-of-crawl report: pages, items, drops by reason, errors, failed pages by reason,
    duration, and the outcome: ``done``, ``partial`` (pages failed, nothing else went wrong)
    or ``failed``."""
    stats = status.stats
    dropped = {
        name.split("/", 2)[2]: value
        for name, value in sorted(stats.items())
        if name.startswith("drop_item/") and name.count("/") >= 2
    }
    errors = {
        name.split("/", 1)[1]: value
        for name, value in sorted(stats.items())
        if name.startswith("error/")
    }
    failed_deliveries = stats.get("kafka/delivery_failed", 0) + stats.get("kafka/undelivered", 0)
    problems = []
    if failed_deliveries:
        problems.append(f"{failed_deliveries} Kafka deliveries failed")
    for name, count in sorted(stats.items()):
        if name.startswith("worker_finish/") and name != "worker_finish/finished":
            problems.append(f"{count} worker(s) stopped: {name.split('/', 1)[1]}")
    if any(code != 0 for code in exit_codes):
        problems.append(f"worker exit codes {exit_codes}")
    if stats.get("scheduler/unqueued"):
        problems.append(f"{stats['scheduler/unqueued']} requests could not be queued (see logs)")
    if not stats.get("downloader/response_count") and errors:
        problems.append(f"no page could be fetched ({', '.join(sorted(errors))})")
    if not status.done:
        problems.append(f"{status.queued} requests still queued, {status.in_flight} in flight")
    failed = failed_pages(failures or {})
    outcome = "failed" if problems else ("partial" if failed else "done")
    return {
        "crawl_id": status.crawl_id,
        "spider": status.spider,
        "ok": not problems,
        "status": outcome,
        "problems": problems,
        "failed_pages": failed,
        "pages": stats.get("downloader/response_count", 0),
        "items": stats.get("item_valid/" + status.spider, 0),
        # Of the items, those found unchanged since last published (sent as seen notices).
        "unchanged": stats.get("item_unchanged/" + status.spider, 0),
        "published": stats.get("kafka/delivered", 0),
        "bytes": stats.get("downloader/response_bytes", 0),
        "dropped": dropped,
        "errors": errors,
        "duplicates_filtered": stats.get("dupefilter/filtered", 0),
        "retries": stats.get("retry/count", 0),
        "requeued_after_lapse": stats.get("scheduler/lease_lapsed", 0),
        "duration_s": round(duration, 2),
    }
