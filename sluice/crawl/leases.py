"""A shared request queue whose pops are leases.

A worker that pops a request holds a lease on it until it acknowledges the request as done;
it renews its leases with heartbeats while it works. A worker killed with SIGKILL stops
renewing, its leases lapse, and the next pop by any worker, or the worker pool's janitor
(:meth:`LeasedQueue.requeue_lapsed`), puts those requests back in the queue, so no request is
lost. Requests of equal priority leave the queue in the order they came (a sequence number in
the score), and a crawl's page budget (``max_pages``) caps the leases handed out crawl-wide.
The crawl is done when the queue and the lease set are both empty: nothing waits, and nothing
is being worked on anywhere.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import redis

from sluice.crawl.keys import CrawlKeys

#: Scores put priority first and arrival second: ``-priority * 2**40 + sequence``. Scores are
#: doubles, exact up to 2**53, so priorities are clamped to +-PRIORITY_LIMIT.
SEQUENCE_SPAN = 2**40
PRIORITY_LIMIT = 2**12 - 1

# Put back up to 100 lapsed leases with their original scores (their place in line).
# Shared by the pop and the janitor. KEYS[1] queue, KEYS[2] leases, KEYS[3] leased; ARGV[1] now.
_REQUEUE_LAPSED = """
local function requeue_lapsed()
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
  return #lapsed
end
"""

# Requeue lapsed leases, then lease the first request, atomically; a crawl with a page budget
# hands out at most that many leases. KEYS: queue, leases, leased, leased_pages.
# ARGV: now_ms, ttl_ms, lease_id, page budget (0: none). Returns {request|false, requeued,
# budget spent (1|0)}.
_POP = (
    _REQUEUE_LAPSED
    + """
-- The same lease id again: a call retried after its reply was lost. Hand back what that
-- lease holds rather than popping another request under the same id, which would overwrite
-- the first request's lease and lose it.
local again = redis.call('HGET', KEYS[3], ARGV[3])
if again then
  local sep = string.find(again, '|', 1, true)
  return {string.sub(again, sep + 1), 0, 0}
end
local requeued = requeue_lapsed()
local budget = tonumber(ARGV[4])
if budget > 0 and tonumber(redis.call('GET', KEYS[4]) or '0') >= budget then
  return {false, requeued, 1}
end
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then
  return {false, requeued, 0}
end
redis.call('ZREM', KEYS[1], top[1])
redis.call('HSET', KEYS[3], ARGV[3], top[2] .. '|' .. top[1])
redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[3])
redis.call('INCR', KEYS[4])
return {top[1], requeued, 0}
"""
)

_JANITOR = (
    _REQUEUE_LAPSED
    + """
return requeue_lapsed()
"""
)

# Queue requests behind every request of equal priority queued before them (an identical
# request already queued keeps its place). KEYS: queue, sequence. ARGV: base, data, base, ...
_PUSH = """
local added = 0
for i = 1, #ARGV, 2 do
  local score = tonumber(ARGV[i]) + redis.call('INCR', KEYS[2])
  added = added + redis.call('ZADD', KEYS[1], 'NX', score, ARGV[i + 1])
end
return added
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
    #: the crawl's page budget is spent: what is still queued will not be leased
    budget_spent: bool = False

    @property
    def done(self) -> bool:
        """Nothing waits and nothing is being worked on."""
        return self.queued == 0 and self.in_flight == 0

    @property
    def over(self) -> bool:
        """Nothing more will be leased and nothing is being worked on."""
        return self.in_flight == 0 and (self.queued == 0 or self.budget_spent)


def priority_base(priority: int) -> int:
    """The score of a request of ``priority`` before its sequence number is added."""
    clamped = max(-PRIORITY_LIMIT, min(PRIORITY_LIMIT, int(priority)))
    return -clamped * SEQUENCE_SPAN


def now_ms() -> int:
    """Wall-clock milliseconds (shared by every worker, unlike a monotonic clock)."""
    return int(time.time() * 1000)


class LeasedQueue:
    """The queue of one crawl in Redis; see the module docstring."""

    def __init__(
        self,
        server: redis.Redis,
        keys: CrawlKeys,
        lease_ttl: float = 30.0,
        page_budget: int = 0,
    ) -> None:
        self.server = server
        self.keys = keys
        self.ttl_ms = int(lease_ttl * 1000)
        self.page_budget = max(0, int(page_budget))
        self._pop = server.register_script(_POP)
        self._renew = server.register_script(_RENEW)
        self._push = server.register_script(_PUSH)
        self._janitor = server.register_script(_JANITOR)

    def push(self, data: bytes, priority: int = 0) -> None:
        """Add one encoded request (an identical one already queued is not added twice)."""
        self.push_many([(data, priority)])

    def push_many(self, items: list[tuple[bytes, int]]) -> None:
        """Add several encoded requests in one round trip, first in first out per priority."""
        if items:
            args = [part for data, priority in items for part in (priority_base(priority), data)]
            self._push(keys=[self.keys.queue, self.keys.sequence], args=args)

    def pop(self) -> tuple[Lease | None, int]:
        """Lease the next request; also return how many lapsed leases were requeued."""
        lease_id = uuid.uuid4().hex
        data, requeued, _spent = self._pop(
            keys=[self.keys.queue, self.keys.leases, self.keys.leased, self.keys.leased_pages],
            args=[now_ms(), self.ttl_ms, lease_id, self.page_budget],
        )
        return (Lease(lease_id, data) if data else None), int(requeued)

    def requeue_lapsed(self) -> int:
        """Put lapsed leases back in the queue now (the pool's janitor: a crawl whose workers
        all died has nobody left to pop); how many were requeued."""
        return int(
            self._janitor(
                keys=[self.keys.queue, self.keys.leases, self.keys.leased], args=[now_ms()]
            )
        )

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
        pipe.get(self.keys.leased_pages)
        queued, in_flight, leased = pipe.execute()
        spent = bool(self.page_budget) and int(leased or 0) >= self.page_budget
        return QueueState(queued=int(queued), in_flight=int(in_flight), budget_spent=spent)

    def clear(self) -> None:
        """Drop the queue and every lease."""
        self.server.delete(
            self.keys.queue, self.keys.leases, self.keys.leased, self.keys.leased_pages
        )
