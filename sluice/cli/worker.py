"""``sluice worker``: the spider worker pool, as `sluice up` runs it."""

from __future__ import annotations

import logging
import os
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
    from sluice.cli.metrics import serve_or_exit
    from sluice.crawl.pool import WorkerPool
    from sluice.crawl.pool_metrics import PoolMetrics
    from sluice.crawl.runner import start_worker
    from sluice.monitoring.serve import fresh_multiprocess_dir, multiprocess_registry
    from sluice.storage.redis import client

    server = client(settings.redis_url, decode=False, retries=5)
    pool = WorkerPool(
        settings,
        server,
        start_worker,
        slots or settings.worker_slots,
        max_restarts=settings.pool_max_restarts,
        claim_ttl=settings.pool_claim_ttl,
    )
    metrics = None
    if settings.metrics_port:
        shared = fresh_multiprocess_dir(settings.stack_dir / "metrics" / "workers")
        # Set only now, after prometheus-client is imported: the pool's own gauges stay in
        # memory, while the workers it starts inherit the variable and write their counters
        # to files this registry sums.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
        registry = multiprocess_registry(shared)
        metrics = PoolMetrics(registry)
        serve_or_exit(settings, registry)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("worker pool %s: %s slots, watching %s", pool.replica, pool.slots, settings.redis_url)
    while not stopping:
        try:
            pool.step()
            if metrics is not None:
                metrics.refresh(pool)
        except redis.RedisError as exc:
            # Redis away: keep running workers alive and look again; they retry on their own.
            log.warning("worker pool: Redis unavailable (%s); retrying", exc)
        time.sleep(poll)
    pool.stop()
