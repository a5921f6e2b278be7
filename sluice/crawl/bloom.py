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

# The same, and queue the request in its host's queue in the same step when it is new. One
# script, so a command retried after a dropped connection cannot find the bits set but the
# request not queued. KEYS: hosts, queued, bitmap, counter, sequence (the first two as
# ENQUEUE_LUA wants them). ARGV: now, queue prefix, score base, host, request, offsets.
_ADMIT = (
    ENQUEUE_LUA
    + """
local new = 0
for i = 6, #ARGV do
  if redis.call('SETBIT', KEYS[3], ARGV[i], 1) == 0 then new = 1 end
end
if new == 1 then
  redis.call('INCR', KEYS[4])
  enqueue(ARGV[4], tonumber(ARGV[3]) + redis.call('INCR', KEYS[5]), ARGV[5])
end
return new
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


class RedisBloom:
    """A Bloom filter stored at ``key`` (its distinct-item count at ``counter_key``)."""

    def __init__(self, server: redis.Redis, key: str, counter_key: str, params: BloomParams):
        self.server = server
        self.key = key
        self.counter_key = counter_key
        self.params = params
        self._check_and_add = server.register_script(_CHECK_AND_ADD)
        self._admit = server.register_script(_ADMIT)

    def add(self, fingerprint: str | bytes) -> bool:
        """Record the fingerprint; True when it was (probably) seen before."""
        offsets = self.params.offsets(fingerprint)
        return bool(self._check_and_add(keys=[self.key, self.counter_key], args=offsets))

    def admit(
        self, fingerprint: str | bytes, keys: CrawlKeys, data: bytes, host: str, priority: int
    ) -> bool:
        """Record the fingerprint and, when it is new, queue ``data`` in the crawl's queue of
        ``host``; True when queued."""
        offsets = self.params.offsets(fingerprint)
        return bool(
            self._admit(
                keys=[keys.hosts, keys.queued, self.key, self.counter_key, keys.sequence],
                args=[now_ms(), keys.queue_prefix, priority_base(priority), host, data, *offsets],
            )
        )

    def count(self) -> int:
        """How many distinct fingerprints were added."""
        return int(self.server.get(self.counter_key) or 0)

    def memory_bytes(self) -> int:
        """Bytes the bitmap takes in Redis now."""
        return int(self.server.strlen(self.key))

    def clear(self) -> None:
        """Forget everything."""
        self.server.delete(self.key, self.counter_key)
