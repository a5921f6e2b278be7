"""A crawl's shared request queue (its frontier), whose pops are leases.

Requests wait in one queue per site (host[:port]). A pop takes from a site whose turn has
come: one the crawl has not leased from for the site's politeness interval, and to which no
worker anywhere may not send yet (:mod:`sluice.crawl.politeness`). A slow or throttled site is
skipped, not waited behind.

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

import json
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis

from sluice.crawl.keys import CrawlKeys
from sluice.crawl.politeness import INTERVALS, NEXT_PREFIX, host_key

#: Scores put priority first and arrival second: ``-priority * 2**40 + sequence``. Scores are
#: doubles, exact up to 2**53, so priorities are clamped to +-PRIORITY_LIMIT.
SEQUENCE_SPAN = 2**40
PRIORITY_LIMIT = 2**12 - 1
#: hosts a pop looks at before it reports that none may be fetched from now
HOSTS_PER_POP = 32

# Lua shared by the scripts below (and the Bloom filter's admit). Every crawl key is named
# from KEYS/ARGV: KEYS[1] hosts, KEYS[2] queued counter, ARGV[1] now (ms), ARGV[2] the crawl's
# queue prefix. The politeness keys are global (one budget per site for every crawl), so they
# are named from ARGV prefixes: the scripts need Redis without cluster mode.
ENQUEUE_LUA = """
local function enqueue(host, score, data)
  if redis.call('ZADD', ARGV[2] .. host, 'NX', score, data) == 0 then return 0 end
  redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], 'NX', ARGV[1], host)
  return 1
end
"""

# Put back up to 100 lapsed leases in their hosts' queues with their original scores (their
# place in line). KEYS[3] leases, KEYS[4] leased (lease id -> "score|host|request").
_REQUEUE_LAPSED = (
    ENQUEUE_LUA
    + """
local function split(held)
  local first = string.find(held, '|', 1, true)
  local second = string.find(held, '|', first + 1, true)
  return string.sub(held, 1, first - 1), string.sub(held, first + 1, second - 1),
         string.sub(held, second + 1)
end
local function requeue_lapsed()
  local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, 100)
  for _, lid in ipairs(lapsed) do
    local held = redis.call('HGET', KEYS[4], lid)
    if held then
      local score, host, data = split(held)
      enqueue(host, tonumber(score), data)
    end
    redis.call('ZREM', KEYS[3], lid)
    redis.call('HDEL', KEYS[4], lid)
  end
  return #lapsed
end
"""
)

# Requeue lapsed leases, then lease up to ARGV[10] requests: the first request of the first
# host whose turn comes within the look-ahead window, then more from hosts whose turn has come
# now (never further ahead than a single lease goes). The crawl leases a host's requests one
# interval apart (the hosts score), and skips a host no worker may send to within the window
# (the politeness next-send key: reserved sends, or a Retry-After pause). A skipped host never
# holds the others up; a request leased ahead of its turn waits for it in the worker (the
# politeness middleware), at most the window.
# KEYS: hosts, queued, leases, leased, leased_pages, pop calls. ARGV: now, queue prefix, ttl_ms,
# lease id prefix, page budget (0: none), politeness next prefix, politeness intervals hash,
# default interval, look-ahead (ms), most leases. Returns {requeued, budget spent (1|0), ms until
# a host may be ready (-1: nothing queued), j, request, ...}: the request leased as '<prefix>-<j>'.
_POP = (
    _REQUEUE_LAPSED
    + """
local now = tonumber(ARGV[1])
local lookahead = tonumber(ARGV[9])
local most = tonumber(ARGV[10])
local function lease_id(j) return ARGV[4] .. '-' .. j end
-- A call retried after its reply was lost finds itself among the calls made. It hands back
-- those of its leases that still exist and leases nothing more: leasing other requests under
-- the same ids would overwrite leases still out (some of the first call's may have been
-- acknowledged or requeued meanwhile) and lose their requests. A call is remembered for two
-- lease TTLs, longer than the client's retries last.
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
if redis.call('ZADD', KEYS[6], 'NX', now + 2 * tonumber(ARGV[3]), ARGV[4]) == 0 then
  local again = {0, 0, 0}
  for j = 1, most do
    local held = redis.call('HGET', KEYS[4], lease_id(j))
    if held then
      local _, _, data = split(held)
      again[#again + 1] = j
      again[#again + 1] = data
    end
  end
  return again
end
local requeued = requeue_lapsed()
local budget = tonumber(ARGV[5])
local leased = {}
local function lease_next(horizon)
  local ready = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', horizon, 'WITHSCORES', 'LIMIT', 0, """
    + str(HOSTS_PER_POP)
    + """)
  for i = 1, #ready, 2 do
    local host, turn = ready[i], tonumber(ready[i + 1])
    local gate = tonumber(redis.call('GET', ARGV[6] .. host) or '0')
    local queue = ARGV[2] .. host
    local top = redis.call('ZRANGE', queue, 0, 0, 'WITHSCORES')
    if #top == 0 then
      redis.call('ZREM', KEYS[1], host)
    elseif gate > horizon then
      -- Its turn moves to when the gate is within the window; never earlier than it was.
      if gate - lookahead > turn then redis.call('ZADD', KEYS[1], gate - lookahead, host) end
    else
      redis.call('ZREM', queue, top[1])
      redis.call('DECR', KEYS[2])
      if redis.call('ZCARD', queue) == 0 then
        redis.call('ZREM', KEYS[1], host)
      else
        local interval = tonumber(redis.call('HGET', ARGV[7], host) or ARGV[8])
        redis.call('ZADD', KEYS[1], math.max(turn, now) + interval, host)
      end
      local lid = lease_id(#leased + 1)
      redis.call('HSET', KEYS[4], lid, top[2] .. '|' .. host .. '|' .. top[1])
      redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), lid)
      redis.call('INCR', KEYS[5])
      return top[1]
    end
  end
  return nil
end
local spent = 0
while #leased < most do
  if budget > 0 and tonumber(redis.call('GET', KEYS[5]) or '0') >= budget then
    spent = 1
    break
  end
  local horizon = now
  if #leased == 0 then horizon = now + lookahead end
  local data = lease_next(horizon)
  if not data then break end
  leased[#leased + 1] = data
end
if #leased > 0 then
  local reply = {requeued, spent, 0}
  for j, data in ipairs(leased) do
    reply[#reply + 1] = j
    reply[#reply + 1] = data
  end
  return reply
end
if spent == 1 then return {requeued, 1, -1} end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return {requeued, 0, -1} end
return {requeued, 0, math.max(0, tonumber(first[2]) - now - lookahead)}
"""
)

_JANITOR = (
    _REQUEUE_LAPSED
    + """
return requeue_lapsed()
"""
)

# Queue requests behind every request of equal priority queued before them, each in its
# host's queue (an identical request already queued keeps its place).
# KEYS: hosts, queued, sequence. ARGV: now, queue prefix, then (score base, host, request)...
_PUSH = (
    ENQUEUE_LUA
    + """
local added = 0
for i = 3, #ARGV, 3 do
  local score = tonumber(ARGV[i]) + redis.call('INCR', KEYS[3])
  added = added + enqueue(ARGV[i + 1], score, ARGV[i + 2])
end
return added
"""
)

# Drop every queued request (a crawl stopped at its page limit); how many there were.
# KEYS: hosts, queued. ARGV: now (unused), queue prefix.
_PURGE = """
local hosts = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, host in ipairs(hosts) do redis.call('DEL', ARGV[2] .. host) end
local dropped = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('DEL', KEYS[1], KEYS[2])
return dropped
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


def budget_spent(page_budget: int, leased: int) -> bool:
    """A crawl with a page budget (0: none) has handed out that many leases."""
    return bool(page_budget) and leased >= page_budget


def priority_base(priority: int) -> int:
    """The score of a request of ``priority`` before its sequence number is added."""
    clamped = max(-PRIORITY_LIMIT, min(PRIORITY_LIMIT, int(priority)))
    return -clamped * SEQUENCE_SPAN


def now_ms() -> int:
    """Wall-clock milliseconds (shared by every worker, unlike a monotonic clock)."""
    return int(time.time() * 1000)


def host_of(url: str) -> str:
    """The site a request URL belongs to (its politeness budget and its queue)."""
    return host_key(urlsplit(url).netloc) or "-"


class LeasedQueue:
    """The queue of one crawl in Redis; see the module docstring."""

    def __init__(
        self,
        server: redis.Redis,
        keys: CrawlKeys,
        lease_ttl: float = 30.0,
        page_budget: int = 0,
        default_interval_ms: int = 0,
        lookahead_ms: int = 1000,
    ) -> None:
        self.server = server
        self.keys = keys
        self.ttl_ms = int(lease_ttl * 1000)
        self.page_budget = max(0, int(page_budget))
        self.default_interval_ms = max(0, int(default_interval_ms))
        self.lookahead_ms = max(0, int(lookahead_ms))
        self._pop = server.register_script(_POP)
        self._renew = server.register_script(_RENEW)
        self._push = server.register_script(_PUSH)
        self._janitor = server.register_script(_JANITOR)
        self._purge = server.register_script(_PURGE)

    def _queue_keys(self) -> list[str]:
        return [self.keys.hosts, self.keys.queued]

    def push(self, data: bytes, host: str, priority: int = 0) -> None:
        """Add one encoded request of ``host`` (an identical one already queued is not added
        twice)."""
        self.push_many([(data, host, priority)])

    def push_many(self, items: list[tuple[bytes, str, int]]) -> None:
        """Add (request, host, priority) items in one round trip, first in first out per
        priority within each host."""
        if items:
            args: list[bytes | str | int] = [now_ms(), self.keys.queue_prefix]
            for data, host, priority in items:
                args += [priority_base(priority), host, data]
            self._push(keys=[*self._queue_keys(), self.keys.sequence], args=args)

    def pop(self) -> tuple[Lease | None, int]:
        """Lease the next request a site's budget allows now; also return how many lapsed
        leases were requeued."""
        return self.pop_or_wait()[:2]

    def pop_or_wait(self) -> tuple[Lease | None, int, float]:
        """:meth:`pop`, plus how long (s) until some host may be ready when nothing is (-1:
        nothing queued)."""
        leases, requeued, wait = self.pop_many(1)
        return (leases[0] if leases else None), requeued, wait

    def pop_many(self, most: int) -> tuple[list[Lease], int, float]:
        """Lease up to ``most`` requests in one round trip: the next one a site's budget allows
        within the look-ahead window, then more from sites whose turn has come now. Also
        return how many lapsed leases were requeued, and how long (s) until some host may be
        ready when nothing was leased (-1: nothing queued)."""
        prefix = uuid.uuid4().hex
        requeued, _spent, wait_ms, *found = self._pop(
            keys=[*self._queue_keys(), self.keys.leases, self.keys.leased, self.keys.leased_pages,
                  self.keys.pop_calls],
            args=[
                now_ms(), self.keys.queue_prefix, self.ttl_ms, prefix, self.page_budget,
                NEXT_PREFIX, INTERVALS, self.default_interval_ms, self.lookahead_ms,
                max(1, int(most)),
            ],
        )  # fmt: skip
        pairs = zip(found[::2], found[1::2], strict=True)
        leases = [Lease(f"{prefix}-{j}", data) for j, data in pairs]
        wait = int(wait_ms) / 1000 if int(wait_ms) >= 0 else -1.0
        return leases, int(requeued), wait

    def requeue_lapsed(self) -> int:
        """Put lapsed leases back in the queue now (the pool's janitor: a crawl whose workers
        all died has nobody left to pop); how many were requeued."""
        return int(
            self._janitor(
                keys=[*self._queue_keys(), self.keys.leases, self.keys.leased],
                args=[now_ms(), self.keys.queue_prefix],
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
        pipe.get(self.keys.queued)
        pipe.zcard(self.keys.leases)
        pipe.get(self.keys.leased_pages)
        queued, in_flight, leased = pipe.execute()
        spent = budget_spent(self.page_budget, int(leased or 0))
        return QueueState(queued=int(queued or 0), in_flight=int(in_flight), budget_spent=spent)

    def record_failure(self, url: str, reason: str, data: bytes) -> None:
        """A page finally failed (after its retries): keep it, with why, for the crawl's report
        and for `sluice crawl retry`."""
        entry = {"reason": reason, "request": data.decode()}
        self.server.hset(self.keys.failed, url, json.dumps(entry))

    def failures(self) -> dict[str, dict[str, str]]:
        """url -> {reason, request} of every page that finally failed."""
        found = self.server.hgetall(self.keys.failed)
        return {
            (k.decode() if isinstance(k, bytes) else k): json.loads(v) for k, v in found.items()
        }

    def requeue_failures(self) -> int:
        """Queue every failed page again (and forget the failures); how many were queued."""
        failed = self.failures()
        items = [(entry["request"].encode(), host_of(url), 0) for url, entry in failed.items()]
        self.push_many(items)
        if failed:
            self.server.hdel(self.keys.failed, *failed)
        return len(items)

    def purge(self) -> int:
        """Drop every queued request (leases stay); how many there were."""
        return int(self._purge(keys=self._queue_keys(), args=[now_ms(), self.keys.queue_prefix]))

    def every_key(self) -> list[str]:
        """Every key of the crawl that exists now, the per-host queues included (for expiring
        or deleting the crawl)."""
        hosts = self.server.zrange(self.keys.hosts, 0, -1)
        queues = [self.keys.queue_of(h.decode() if isinstance(h, bytes) else h) for h in hosts]
        return [*self.keys.all(), *queues]

    def clear(self) -> None:
        """Drop the queue and every lease."""
        self.purge()
        self.server.delete(
            self.keys.leases, self.keys.leased, self.keys.leased_pages, self.keys.pop_calls
        )
