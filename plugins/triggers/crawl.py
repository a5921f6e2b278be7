"""Deferrable waits of a crawl run: until the crawl is idle (Redis), until it is stored (Kafka)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from plugins.hooks.sluice import KAFKA_CONN_ID, REDIS_CONN_ID

#: how long a crawl may have work queued and no worker before the wait gives up
NO_WORKER_GRACE = 120.0


def crawl_state(status, dispatched: bool) -> str:
    """``idle``, ``page_limit``, ``failed`` (the worker pool gave up on it, with a reason),
    ``orphaned`` (work left, nobody to do it) or ``running``."""
    if status.failure:
        return "failed"
    if status.over and status.workers == 0:
        return "page_limit" if status.queued else "idle"
    if not dispatched and status.workers == 0 and status.in_flight == 0 and not status.done:
        return "orphaned"
    return "running"


class CrawlIdleTrigger(BaseTrigger):
    """Fires when the crawl has nothing queued or in flight and its workers have gone."""

    def __init__(
        self,
        crawl_id: str,
        redis_conn_id: str = REDIS_CONN_ID,
        poll_interval: float = 5.0,
    ) -> None:
        super().__init__()
        self.crawl_id = crawl_id
        self.redis_conn_id = redis_conn_id
        self.poll_interval = poll_interval
        #: one client for the whole wait, closed by :meth:`cleanup`
        self._server = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "plugins.triggers.crawl.CrawlIdleTrigger",
            {
                "crawl_id": self.crawl_id,
                "redis_conn_id": self.redis_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    def _look(self) -> tuple[Any, bool]:
        from airflow.providers.redis.hooks.redis import RedisHook

        from sluice.crawl import registry
        from sluice.crawl.keys import CrawlKeys

        if self._server is None:
            self._server = RedisHook(redis_conn_id=self.redis_conn_id).get_conn()
        status = registry.status(self._server, CrawlKeys(self.crawl_id))
        return status, self.crawl_id in registry.dispatched(self._server)

    async def cleanup(self) -> None:
        """Close the Redis client the wait used (the triggerer calls this when it is done)."""
        if self._server is not None:
            server, self._server = self._server, None
            await asyncio.to_thread(server.close)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        orphaned_since: float | None = None
        while True:
            # Hooks and redis-py are blocking: keep them off the triggerer's event loop.
            status, dispatched = await asyncio.to_thread(self._look)
            state = crawl_state(status, dispatched)
            if state in ("idle", "page_limit"):
                yield TriggerEvent(
                    {"state": state, "crawl_id": self.crawl_id, "stats": status.stats}
                )
                return
            if state == "failed":
                yield TriggerEvent(
                    {
                        "state": "failed",
                        "crawl_id": self.crawl_id,
                        "stats": status.stats,
                        "message": status.failure,
                    }
                )
                return
            if state == "orphaned":
                orphaned_since = orphaned_since or time.monotonic()
                if time.monotonic() - orphaned_since > NO_WORKER_GRACE:
                    yield TriggerEvent(
                        {
                            "state": "orphaned",
                            "crawl_id": self.crawl_id,
                            "stats": status.stats,
                            "message": f"{status.queued} requests queued and no worker for "
                            f"{NO_WORKER_GRACE:.0f}s: is the worker pool running "
                            "(`sluice status`, service `workers`)?",
                        }
                    )
                    return
            else:
                orphaned_since = None
            await asyncio.sleep(self.poll_interval)


class ProcessedTrigger(BaseTrigger):
    """Fires when every processor group has committed past the given end offsets."""

    def __init__(
        self,
        marks: dict[str, int],
        groups: list[str],
        kafka_conn_id: str = KAFKA_CONN_ID,
        poll_interval: float = 5.0,
    ) -> None:
        super().__init__()
        self.marks = marks
        self.groups = groups
        self.kafka_conn_id = kafka_conn_id
        self.poll_interval = poll_interval
        #: one offset reader per group for the whole wait, closed by :meth:`cleanup`
        self._readers: dict[str, Any] = {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "plugins.triggers.crawl.ProcessedTrigger",
            {
                "marks": self.marks,
                "groups": self.groups,
                "kafka_conn_id": self.kafka_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    def _behind(self) -> dict[str, int]:
        from plugins.hooks.sluice import SluiceHook
        from sluice.kafka.lag import committed_behind, offset_reader

        if not self._readers:
            kafka = SluiceHook(kafka_conn_id=self.kafka_conn_id).kafka_connection()
            self._readers = {group: offset_reader(kafka, group) for group in self.groups}
        return {
            group: committed_behind(reader, self.marks) for group, reader in self._readers.items()
        }

    async def cleanup(self) -> None:
        """Close the offset readers the wait used (the triggerer calls this when it is done)."""
        readers, self._readers = self._readers, {}
        for reader in readers.values():
            await asyncio.to_thread(reader.close)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            lag = await asyncio.to_thread(self._behind)
            if not any(lag.values()):
                yield TriggerEvent({"state": "processed", "marks": self.marks})
                return
            self.log.info("processors still behind the crawl: %s", lag)
            await asyncio.sleep(self.poll_interval)
