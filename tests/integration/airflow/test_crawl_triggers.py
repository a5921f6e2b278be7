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
        sensor = CrawlIdleSensor(task_id="wait_idle", crawl_id=keys.crawl_id)
        with pytest.raises(AirflowException) as failed:
            sensor.execute_complete({}, event.payload)
    finally:
        server.delete(*LeasedQueue(server, keys).every_key())
    assert (event.payload["state"], REASON in str(failed.value)) == ("failed", True)


def test_the_idle_wait_polls_through_one_redis_client_and_closes_it(
    stack, settings, airflow_env, monkeypatch
):
    from airflow.providers.redis.hooks.redis import RedisHook

    made, closed = [], []
    hook_client = RedisHook.get_conn

    def counted(hook):
        server = hook_client(hook)
        made.append(server)
        close = server.close
        server.close = lambda: (closed.append(server), close())
        return server

    monkeypatch.setattr(RedisHook, "get_conn", counted)
    server = client(settings.redis_url, decode=False)
    keys = CrawlKeys(f"trigger-{uuid.uuid4().hex[:8]}")
    registry.create(server, keys, "ecommerce", ["http://x.test/"])
    LeasedQueue(server, keys).push(b"left", "x.test")
    registry.dispatch(server, keys.crawl_id, 1)  # dispatched, work queued: running
    trigger = CrawlIdleTrigger(keys.crawl_id, poll_interval=0.05)

    async def wait_then_end() -> None:
        waiting = asyncio.ensure_future(first_event(trigger))
        await asyncio.sleep(1.0)  # about 20 polls of a running crawl
        registry.conclude(server, keys.crawl_id, REASON, retain_seconds=60)
        await asyncio.wait_for(waiting, 30)
        await trigger.cleanup()

    try:
        asyncio.run(wait_then_end())
    finally:
        server.delete(*LeasedQueue(server, keys).every_key())
    assert (len(made), closed) == (1, made)
