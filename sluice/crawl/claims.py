"""Which worker-pool replica runs which worker of a dispatched crawl.

A crawl dispatched with ``wanted`` workers has that many worker slots, numbered from 0, in one
Redis hash (:attr:`CrawlKeys.claims`). Every pool replica competes for them with one atomic
script, so however many replicas run, a crawl has at most ``wanted`` Scrapy processes:

- ``run|<replica>|<expiry ms>``: the replica runs (or is restarting) the slot's worker and
  renews the expiry every step. A replica that is killed stops renewing; once the expiry has
  passed the slot is free again and another replica takes it over.
- ``ended|<reason>``: the slot's worker ended for good (it saw the crawl done, or crashed once
  too often); no replica starts it again.
- no field: nobody has taken the slot yet, or a replica stopping gracefully gave it back.

Restarts after a crash are counted per crawl in Redis (``restarts`` in the crawl's record), so
the budget holds across replicas.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import now_ms

# Take free or lapsed slots (lowest first) up to ``room`` of them.
# KEYS: claims. ARGV: now_ms, ttl_ms, replica, wanted, room. Returns the slots taken.
_CLAIM = """
local taken = {}
local room = tonumber(ARGV[5])
for slot = 0, tonumber(ARGV[4]) - 1 do
  if #taken >= room then break end
  local held = redis.call('HGET', KEYS[1], slot)
  local free = not held
  if held and string.sub(held, 1, 4) == 'run|' then
    local expiry = tonumber(string.match(held, '|(%d+)$'))
    free = expiry < tonumber(ARGV[1])
  end
  if free then
    local expiry = tonumber(ARGV[1]) + tonumber(ARGV[2])
    redis.call('HSET', KEYS[1], slot, 'run|' .. ARGV[3] .. '|' .. expiry)
    table.insert(taken, slot)
  end
end
return taken
"""

# Extend this replica's run claims; return the slots it no longer holds.
# KEYS: claims. ARGV: expiry_ms, replica, slot...
_RENEW = """
local lost = {}
local mine = 'run|' .. ARGV[2] .. '|'
for i = 3, #ARGV do
  local held = redis.call('HGET', KEYS[1], ARGV[i])
  if held and string.sub(held, 1, #mine) == mine then
    redis.call('HSET', KEYS[1], ARGV[i], mine .. ARGV[1])
  else
    table.insert(lost, tonumber(ARGV[i]))
  end
end
return lost
"""

# Replace this replica's claim on a slot (ARGV[3] = 'ended|<reason>', or '' to give it back).
# KEYS: claims. ARGV: replica, slot, new value. Returns 1 when the claim was this replica's.
_SETTLE = """
local held = redis.call('HGET', KEYS[1], ARGV[2])
local mine = 'run|' .. ARGV[1] .. '|'
if not held or string.sub(held, 1, #mine) ~= mine then return 0 end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[2])
else
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
end
return 1
"""


@dataclass(frozen=True)
class SlotsView:
    """The slots of one crawl at one moment."""

    wanted: int
    running: int
    ended: dict[int, str]

    @property
    def all_ended(self) -> bool:
        """Every slot's worker has ended for good: nobody will work on the crawl again."""
        return len(self.ended) >= self.wanted


class Claims:
    """One replica's side of the slot protocol (see the module docstring)."""

    def __init__(self, server: redis.Redis, replica: str, ttl: float) -> None:
        self.server = server
        self.replica = replica
        self.ttl_ms = int(ttl * 1000)
        self._claim = server.register_script(_CLAIM)
        self._renew = server.register_script(_RENEW)
        self._settle = server.register_script(_SETTLE)

    def claim(self, crawl_id: str, wanted: int, room: int) -> list[int]:
        """Take up to ``room`` free slots of the crawl; the slot numbers taken."""
        if room <= 0:
            return []
        taken = self._claim(
            keys=[CrawlKeys(crawl_id).claims],
            args=[now_ms(), self.ttl_ms, self.replica, wanted, room],
        )
        return [int(slot) for slot in taken]

    def renew(self, crawl_id: str, slots: list[int]) -> list[int]:
        """Extend the claims on ``slots``; the slots this replica has lost (it must stop them)."""
        if not slots:
            return []
        lost = self._renew(
            keys=[CrawlKeys(crawl_id).claims], args=[now_ms() + self.ttl_ms, self.replica, *slots]
        )
        return [int(slot) for slot in lost]

    def end(self, crawl_id: str, slot: int, reason: str) -> bool:
        """The slot's worker ended for good; True when the slot was still this replica's."""
        settled = self._settle(
            keys=[CrawlKeys(crawl_id).claims], args=[self.replica, slot, f"ended|{reason}"]
        )
        return bool(settled)

    def give_back(self, crawl_id: str, slot: int) -> bool:
        """Free the slot for another replica (a graceful stop); True when it was ours."""
        return bool(self._settle(keys=[CrawlKeys(crawl_id).claims], args=[self.replica, slot, ""]))


def view(server: redis.Redis, crawl_id: str, wanted: int) -> SlotsView:
    """How many slots run (unexpired claims) and which have ended, with their reasons."""
    held = server.hgetall(CrawlKeys(crawl_id).claims)
    now = now_ms()
    running = 0
    ended: dict[int, str] = {}
    for raw_slot, raw_value in held.items():
        slot = int(raw_slot)
        value = raw_value.decode() if isinstance(raw_value, bytes) else raw_value
        state, _, rest = value.partition("|")
        if state == "ended":
            ended[slot] = rest
        elif state == "run" and int(rest.rpartition("|")[2]) >= now:
            running += 1
    return SlotsView(wanted=wanted, running=running, ended=ended)


def count_restart(server: redis.Redis, crawl_id: str) -> int:
    """Count one restart of a crashed worker of the crawl; the crawl's restarts so far."""
    return int(server.hincrby(CrawlKeys(crawl_id).meta, "restarts", 1))
