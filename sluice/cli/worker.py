"""``sluice worker``: the spider worker pool, as `sluice up` runs it."""

from __future__ import annotations

import logging
import signal
import time

import click
import redis

from sluice.settings import Settings

log = logging.getLogger(__name__)


@click.command("worker")
@click.option("--slots", type=click.IntRange(1, 256), help="Workers at once (SLUICE_WORKER_SLOTS).")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks at Redis.")
@click.pass_obj
def worker(settings: Settings, slots: int | None, poll: float) -> None:
    """Start Scrapy workers for every dispatched crawl until stopped (SIGTERM)."""
    from sluice.crawl.pool import WorkerPool
    from sluice.crawl.runner import start_worker
    from sluice.storage.redis import client

    server = client(settings.redis_url, decode=False, retries=5)
    pool = WorkerPool(settings, server, start_worker, slots or settings.worker_slots)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker pool: %s slots, watching %s", pool.slots, settings.redis_url)
    while not stopping:
        try:
            pool.step()
        except redis.RedisError as exc:
            # Redis away: keep running workers alive and look again; they retry on their own.
            log.warning("worker pool: Redis unavailable (%s); retrying", exc)
        time.sleep(poll)
    pool.stop()
