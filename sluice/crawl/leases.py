"""A shared request queue whose pops are leases.

A worker that pops a request holds a lease on it until it acknowledges the request as done;
it renews its leases with heartbeats while it works. A worker killed with SIGKILL stops
renewing, its leases lapse, and the next pop by any worker puts those requests back in the
queue, so no request is lost. The crawl is done when the queue and the lease set are both
empty: nothing waits, and nothing is being worked on anywhere.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import redis

from sluice.crawl.keys import CrawlKeys

# Requeue lapsed leases, then lease the highest-priority request, atomically.
# KEYS: queue, leases, leased. ARGV: now_ms, ttl_ms, lease_id.
_POP = """
-- The same lease id again: a call retried after its reply was lost. Hand back what that
-- lease holds rather than popping another request under the same id, which would overwrite
-- the first request's lease and lose it.
local again = redis.call('HGET', KEYS[3], ARGV[3])
if again then
  local sep = string.find(again, '|', 1, true)
  return {string.sub(again, sep + 1), 0}
end
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, lid in ipairs(lapsed) do
  local held = redis.call('HGET', KEYS[3], lid)
  if held then
    local sep = string.find(held, '|', 1, true)
    redis.call('ZADD', KEYS[1], tonumber(string.sub(held, 1, sep - 1)), string.sub(held, sep + 1))
  end
  redis.call('ZREM', KEYS[2], lid)
  redis.call('HDEL', KEYS[3], lid)
end
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then
  return {false, #lapsed}
end
redis.call('ZREM', KEYS[1], top[1])
redis.call('HSET', KEYS[3], ARGV[3], top[2] .. '|' .. top[1])
redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[3])
return {top[1], #lapsed}
"""

# Renew leases that still exist (a lapsed and requeued lease is not brought back).
_RENEW = """
local renewed = 0
for i = 1, #ARGV - 1 do
  renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[#ARGV], ARGV[i])
end
return renewed
"""


@dataclass(frozen=True)
class Lease:
    """A popped request and the id that acknowledges it."""

    lease_id: str
    data: bytes


@dataclass(frozen=True)
class QueueState:
    """How much work a crawl has left."""

    queued: int
    in_flight: int

    @property
    def done(self) -> bool:
        """Nothing waits and nothing is being worked on."""
        return self.queued == 0 and self.in_flight == 0


def now_ms() -> int:
    """Wall-clock milliseconds (shared by every worker, unlike a monotonic clock)."""
    return int(time.time() * 1000)


class LeasedQueue:
    """The queue of one crawl in Redis; see the module docstring."""

    def __init__(self, server: redis.Redis, keys: CrawlKeys, lease_ttl: float = 30.0) -> None:
        self.server = server
        self.keys = keys
        self.ttl_ms = int(lease_ttl * 1000)
        self._pop = server.register_script(_POP)
        self._renew = server.register_script(_RENEW)

    def push(self, data: bytes, priority: int = 0) -> None:
        """Add one encoded request (an identical one already queued is not added twice)."""
        self.server.zadd(self.keys.queue, {data: -priority})

    def push_many(self, items: list[tuple[bytes, int]]) -> None:
        """Add several encoded requests in one round trip."""
        if items:
            self.server.zadd(self.keys.queue, {data: -priority for data, priority in items})

    def pop(self) -> tuple[Lease | None, int]:
        """Lease the next request; also return how many lapsed leases were requeued."""
        lease_id = uuid.uuid4().hex
        data, requeued = self._pop(
            keys=[self.keys.queue, self.keys.leases, self.keys.leased],
            args=[now_ms(), self.ttl_ms, lease_id],
        )
        return (Lease(lease_id, data) if data else None), int(requeued)

    def ack(self, lease_ids: list[str]) -> None:
        """The requests are done: forget their leases."""
        if not lease_ids:
            return
        pipe = self.server.pipeline(transaction=True)
        pipe.zrem(self.keys.leases, *lease_ids)
        pipe.hdel(self.keys.leased, *lease_ids)
        pipe.execute()

    def renew(self, lease_ids: list[str]) -> int:
        """Extend the given leases by one TTL from now; return how many still existed."""
        if not lease_ids:
            return 0
        return int(self._renew(keys=[self.keys.leases], args=[*lease_ids, now_ms() + self.ttl_ms]))

    def release(self, lease_ids: list[str]) -> None:
        """Let leases lapse now, so the next pop by any worker requeues their requests."""
        if lease_ids:
            self.server.zadd(self.keys.leases, dict.fromkeys(lease_ids, 0), xx=True)

    def state(self) -> QueueState:
        """Queued and in-flight counts."""
        pipe = self.server.pipeline(transaction=False)
        pipe.zcard(self.keys.queue)
        pipe.zcard(self.keys.leases)
        queued, in_flight = pipe.execute()
        return QueueState(queued=int(queued), in_flight=int(in_flight))

    def clear(self) -> None:
        """Drop the queue and every lease."""
        self.server.delete(self.keys.queue, self.keys.leases, self.keys.leased)
