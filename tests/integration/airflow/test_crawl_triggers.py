"""The crawl's deferrable wait against the real Redis: a crawl the worker pool gave up on
ends the wait at once, and the wait_idle task fails with the pool's reason."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from airflow.sdk.exceptions import AirflowException

from plugins.operators.crawl import CrawlIdleSensor
from plugins.triggers.crawl import CrawlIdleTrigger
from sluice.crawl import registry
from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import LeasedQueue
from sluice.storage.redis import client

pytestmark = [pytest.mark.redis]

REASON = "every worker has ended (a worker exited with -9 and the restart budget (3) is spent)"


async def first_event(trigger: CrawlIdleTrigger):
    async for event in trigger.run():
        return event
    return None


def test_wait_idle_fails_with_the_pools_reason_when_the_crawl_failed(stack, settings, airflow_env):
    server = client(settings.redis_url, decode=False)
    keys = CrawlKeys(f"trigger-{uuid.uuid4().hex[:8]}")
    registry.create(server, keys, "ecommerce", ["http://x.test/"])
    LeasedQueue(server, keys).push(b"left", "x.test")
    registry.dispatch(server, keys.crawl_id, 1)
    registry.conclude(server, keys.crawl_id, REASON, retain_seconds=60)
    try:
        event = asyncio.run(
            asyncio.wait_for(first_event(CrawlIdleTrigger(keys.crawl_id, poll_interval=0.1)), 30)
        )
        with pytest.raises(AirflowException) as failed:
            CrawlIdleSensor(task_id="wait_idle").execute_complete({}, event.payload)
    finally:
        server.delete(*LeasedQueue(server, keys).every_key())
    assert (event.payload["state"], REASON in str(failed.value)) == ("failed", True)
