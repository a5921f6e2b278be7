"""Admission of a data request in one Redis round trip: key check, rate limit, cached body.

One Lua script reads the caller's cached key check, counts the request against the key's
limit, reads the data versions and, for a cached endpoint, the stored response. A request
served from the cache therefore costs one round trip and no PostgreSQL at all. Only a key
whose check is missing or stale (after a revocation, see :mod:`api.keychecks`) is looked up in
PostgreSQL, and the check made then is stored by a second run of the same script.

Redis being away costs speed and the rate limit, never the API: the key is checked in
PostgreSQL and the response built from it (``BYPASS``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis
from redis.commands.core import Script
from sqlalchemy.engine import Engine

from api import keychecks
from api.auth import WINDOW_SECONDS, Caller, authenticate, presented_key, rate_limited
from api.keys import hash_key
from sluice.storage import versions

log = logging.getLogger(__name__)

RATE = "sluice:api:ratelimit:{key_hash}:{window}"

# KEYS: key-set version, the key's check, its counter this minute, [response, data versions]
# ARGV: counter TTL, check TTL, [key-set version seen, id, name, limit of a fresh check]
# Replies {0, keyset} when the check is missing or stale, else
# {1, id, name, limit, used[, stamp[, body, etag]]}.
SOURCE = b"""
local keyset = redis.call('GET', KEYS[1]) or '0'
local id, name, limit
if ARGV[3] then
  id, name, limit = ARGV[4], ARGV[5], ARGV[6]
  if ARGV[3] == keyset then
    redis.call('HSET', KEYS[2], 'keyset', keyset, 'id', id, 'name', name, 'limit', limit)
    redis.call('EXPIRE', KEYS[2], ARGV[2])
  end
else
  local check = redis.call('HMGET', KEYS[2], 'keyset', 'id', 'name', 'limit')
  if check[1] ~= keyset then return {0, keyset} end
  id, name, limit = check[2], check[3], check[4]
end
local used = redis.call('INCR', KEYS[3])
if used == 1 then redis.call('EXPIRE', KEYS[3], ARGV[1]) end
if #KEYS < 4 or used > tonumber(limit) then return {1, id, name, limit, used} end
local seen = {}
for i = 5, #KEYS do seen[#seen + 1] = redis.call('GET', KEYS[i]) or '0' end
local stamp = table.concat(seen, ',')
local stored = redis.call('HMGET', KEYS[4], 'stamp', 'body', 'etag')
if stored[1] ~= stamp then return {1, id, name, limit, used, stamp} end
return {1, id, name, limit, used, stamp, stored[2], stored[3]}
"""
# Bytes, so the script's digest needs no client's encoder; each call names its client.
_SCRIPT = Script(None, SOURCE)


@dataclass(frozen=True)
class Slot:
    """Where a response is cached, and the data versions it must be built under."""

    key: str
    stamp: bytes


@dataclass(frozen=True)
class Admission:
    """A request let in: who calls, what is left of their limit, and the cache's answer."""

    caller: Caller
    remaining: int
    state: str = "BYPASS"
    slot: Slot | None = None
    body: bytes | None = None
    etag: str | None = None


def admit(
    server: redis.Redis,
    engine: Engine,
    presented: str | None,
    cache: tuple[str, tuple[str, ...]] | None = None,
    now: float | None = None,
) -> Admission:
    """Let a request with key ``presented`` in (401 or 429 otherwise).

    ``cache`` is (response key, entities) for an endpoint whose responses are cached: the
    admission then carries the stored body (``HIT``) or the slot to store one in (``MISS``).
    """
    key_hash = hash_key(presented_key(presented))
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    counter = RATE.format(key_hash=key_hash, window=window)
    keys = [keychecks.KEYSET, keychecks.check_key(key_hash), counter]
    if cache is not None:
        keys += [cache[0], *(versions.KEY.format(entity=entity) for entity in cache[1])]
    ttls = [WINDOW_SECONDS * 2, keychecks.CHECK_TTL_SECONDS]
    caller = None
    try:
        reply = _SCRIPT(keys=keys, args=ttls, client=server)
        if reply[0] == 0:
            caller = authenticate(engine, presented)
            fresh = [reply[1], caller.key_id, caller.name, caller.rate_limit]
            reply = _SCRIPT(keys=keys, args=ttls + fresh, client=server)
    except redis.RedisError as exc:
        log.warning("Redis unavailable (%s): key checked in PostgreSQL, no limit, no cache", exc)
        caller = caller or authenticate(engine, presented)
        return Admission(caller, caller.rate_limit)
    return _admission(reply, cache, now, window)


def _admission(reply: list, cache, now: float, window: int) -> Admission:
    """The admission the script's reply of a valid check means (429 past the limit)."""
    _, key_id, name, limit, used, *found = reply
    caller = Caller(int(key_id), name.decode(), int(limit))
    if used > caller.rate_limit:
        raise rate_limited(caller, now, window)
    remaining = caller.rate_limit - used
    if cache is None:
        return Admission(caller, remaining)
    slot = Slot(cache[0], found[0])
    if len(found) == 3:
        return Admission(caller, remaining, "HIT", slot, found[1], found[2].decode())
    return Admission(caller, remaining, "MISS", slot)
