"""A Bloom filter in a Redis bitmap: the duplicate filter of very large crawls.

Its memory is fixed when the crawl starts, from the expected number of distinct requests and
the acceptable false-positive rate (m = -n ln p / (ln 2)^2 bits, k = m/n ln 2 hashes). A false
positive means one URL that is skipped though never fetched, at the stated rate; a URL that
was fetched is never fetched again.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import redis

from sluice.crawl.keys import CrawlKeys
from sluice.crawl.leases import ENQUEUE_LUA, now_ms, priority_base

# Set every bit; report whether all of them were already set (the fingerprint was seen).
# KEYS: bitmap, counter. ARGV: offsets.
_CHECK_AND_ADD = """
local present = 1
for i = 1, #ARGV do
  if redis.call('SETBIT', KEYS[1], ARGV[i], 1) == 0 then present = 0 end
end
if present == 0 then redis.call('INCR', KEYS[2]) end
return present
"""

# Admit a batch of requests in one step: for each, in order, set its fingerprint's bits and
# queue it in its host's queue when they were not all set already (a request without offsets
# is queued unfiltered). One script, so a call retried after a dropped connection cannot find
# the bits set but the request not queued; in order, so a request that repeats an earlier one
# of the same batch is filtered like any other duplicate.
# KEYS: hosts, queued, bitmap, counter, sequence (the first two as ENQUEUE_LUA wants them).
# ARGV: now, queue prefix, then per request: score base, host, request, n, then n offsets.
# Returns one 1|0 per request (admitted), then the filter's distinct-item count.
_ADMIT_MANY = (
    ENQUEUE_LUA
    + """
local admitted = {}
local new_items = 0
local i = 3
while i <= #ARGV do
  local base, host, data, n = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local new = 1
  if n > 0 then
    new = 0
    for j = i + 4, i + 3 + n do
      if redis.call('SETBIT', KEYS[3], ARGV[j], 1) == 0 then new = 1 end
    end
    new_items = new_items + new
  end
  if new == 1 then
    enqueue(host, tonumber(base) + redis.call('INCR', KEYS[5]), data)
  end
  admitted[#admitted + 1] = new
  i = i + 4 + n
end
admitted[#admitted + 1] = redis.call('INCRBY', KEYS[4], new_items)
return admitted
"""
)

#: Redis strings stop at 512 MiB.
MAX_BITS = 512 * 1024 * 1024 * 8


@dataclass(frozen=True)
class BloomParams:
    """Size of a Bloom filter for ``capacity`` items at ``error_rate`` false positives."""

    capacity: int
    error_rate: float

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError(f"Bloom filter capacity must be positive, got {self.capacity}")
        if not 0 < self.error_rate < 1:
            raise ValueError(f"Bloom filter error rate must be in (0, 1), got {self.error_rate}")
        if self.bits > MAX_BITS:
            raise ValueError(
                f"a Bloom filter for {self.capacity} items at {self.error_rate} needs "
                f"{self.bits} bits, more than one Redis string holds ({MAX_BITS})"
            )

    @property
    def bits(self) -> int:
        """m: the bitmap size."""
        return math.ceil(-self.capacity * math.log(self.error_rate) / (math.log(2) ** 2))

    @property
    def hashes(self) -> int:
        """k: bits set per item."""
        return max(1, round(self.bits / self.capacity * math.log(2)))

    @property
    def bytes(self) -> int:
        """Memory the bitmap takes in Redis when full-sized."""
        return math.ceil(self.bits / 8)

    def offsets(self, fingerprint: str | bytes) -> list[int]:
        """The k bit positions of one fingerprint (double hashing over a SHA-256 digest)."""
        raw = fingerprint.encode() if isinstance(fingerprint, str) else fingerprint
        digest = hashlib.sha256(raw).digest()
        h1 = int.from_bytes(digest[:8], "big")
        h2 = int.from_bytes(digest[8:16], "big") | 1
        return [(h1 + i * h2) % self.bits for i in range(self.hashes)]


@dataclass(frozen=True)
class Admission:
    """One request on its way into a crawl's queue through the filter."""

    data: bytes
    host: str
    priority: int
    #: None: queue it unfiltered (a retry, or a request that asked ``dont_filter``)
    fingerprint: str | bytes | None


class KnownFingerprints:
    """The last ``limit`` fingerprints the shared filter answered for, in this process.

    A fingerprint the filter has answered for has all its bits set, and bits are never unset
    while the crawl lasts, so the filter would answer "seen" for it from then on: a worker
    that remembers it can drop the duplicate without a round trip (and without encoding it).
    Only the memory is bounded; forgetting costs a round trip, never a duplicate.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(0, int(limit))
        # A dict keeps insertion order: the oldest entry is the first one.
        self._known: dict[str | bytes, None] = {}

    def __contains__(self, fingerprint: str | bytes) -> bool:
        return fingerprint in self._known

    def __len__(self) -> int:
        return len(self._known)

    def add(self, fingerprint: str | bytes) -> None:
        """Remember a fingerprint the filter answered for, forgetting the oldest when full."""
        if not self.limit or fingerprint in self._known:
            return
        if len(self._known) >= self.limit:
            del self._known[next(iter(self._known))]
        self._known[fingerprint] = None

    def clear(self) -> None:
        """Forget everything (the shared filter was cleared)."""
        self._known.clear()


class RedisBloom:
    """A Bloom filter stored at ``key`` (its distinct-item count at ``counter_key``)."""

    def __init__(self, server: redis.Redis, key: str, counter_key: str, params: BloomParams):
        self.server = server
        self.key = key
        self.counter_key = counter_key
        self.params = params
        self._check_and_add = server.register_script(_CHECK_AND_ADD)
        self._admit_many = server.register_script(_ADMIT_MANY)

    def add(self, fingerprint: str | bytes) -> bool:
        """Record the fingerprint; True when it was (probably) seen before."""
        offsets = self.params.offsets(fingerprint)
        return bool(self._check_and_add(keys=[self.key, self.counter_key], args=offsets))

    def admit(
        self, fingerprint: str | bytes, keys: CrawlKeys, data: bytes, host: str, priority: int
    ) -> bool:
        """Record the fingerprint and, when it is new, queue ``data`` in the crawl's queue of
        ``host``; True when queued."""
        admitted, _ = self.admit_many(keys, [Admission(data, host, priority, fingerprint)])
        return admitted[0]

    def admit_many(self, keys: CrawlKeys, admissions: list[Admission]) -> tuple[list[bool], int]:
        """Admit a batch of requests in one round trip, in order: each one with a fingerprint
        is queued only when the filter has not seen it (nor an earlier one of the batch), each
        one without is queued as it is. Returns whether each was queued, and how many distinct
        fingerprints the filter holds now."""
        if not admissions:
            return [], self.count()
        args: list[bytes | str | int] = [now_ms(), keys.queue_prefix]
        for admission in admissions:
            offsets = (
                [] if admission.fingerprint is None else self.params.offsets(admission.fingerprint)
            )
            args += [priority_base(admission.priority), admission.host, admission.data]
            args += [len(offsets), *offsets]
        *admitted, count = self._admit_many(
            keys=[keys.hosts, keys.queued, self.key, self.counter_key, keys.sequence], args=args
        )
        return [bool(flag) for flag in admitted], int(count)

    def count(self) -> int:
        """How many distinct fingerprints were added."""
        return int(self.server.get(self.counter_key) or 0)

    def memory_bytes(self) -> int:
        """Bytes the bitmap takes in Redis now."""
        return int(self.server.strlen(self.key))

    def clear(self) -> None:
        """Forget everything."""
        self.server.delete(self.key, self.counter_key)
