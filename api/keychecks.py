"""API key checks cached in Redis, shared by every API replica, and voided all at once.

A cached check remembers the key-set version it was made under. Revoking a key bumps that
version after PostgreSQL has committed the revocation, so the very next request with any key
finds its check stale and asks PostgreSQL again. A check is made under the version read
*before* its PostgreSQL lookup: one racing a revocation is stored already stale.
"""

from __future__ import annotations

import redis

#: the key-set version; every cached check names the version it was made under
KEYSET = "sluice:api:keyset"
#: one cached check (a hash: keyset, id, name, limit) per key, by the key's hash
CHECK = "sluice:api:keycheck:{key_hash}"
#: how long a check lives: the bound on a key revoked behind Sluice's back (plain SQL)
CHECK_TTL_SECONDS = 60


class ChecksNotVoided(RuntimeError):
    """PostgreSQL revoked a key but Redis could not be told: cached checks may still pass."""


def check_key(key_hash: str) -> str:
    """The Redis key of the cached check of the key whose hash is ``key_hash``."""
    return CHECK.format(key_hash=key_hash)


def void_all(server: redis.Redis) -> int:
    """Make every cached key check stale (after a revocation); the new key-set version.

    Raises :class:`ChecksNotVoided` when Redis does not answer, saying how long the revoked
    key may still be accepted.
    """
    try:
        return int(server.incr(KEYSET))
    except redis.RedisError as exc:
        raise ChecksNotVoided(
            f"the API's cached key checks could not be voided (Redis: {exc}); a revoked key "
            f"is accepted until its check expires, within {CHECK_TTL_SECONDS} s"
        ) from exc
