"""API keys: made here, stored only as a hash, looked up by that hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import redis

from api import keychecks

PREFIX = "slk_"
#: the scope of a key that may ask for crawls (POST /api/v1/crawl-requests)
CRAWL_REQUEST = "crawl:request"
#: the write actions a key may be given (reading needs none); sql/0014 checks the same list
SCOPES = (CRAWL_REQUEST,)


@dataclass(frozen=True)
class NewKey:
    """A key as created: the secret is shown once, only the hash is stored."""

    key: str
    key_hash: str
    key_prefix: str


def hash_key(key: str) -> str:
    """The stored form of a key (SHA-256: keys are long random strings, not passwords)."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> NewKey:
    """A fresh random key."""
    key = PREFIX + secrets.token_urlsafe(32)
    return NewKey(key=key, key_hash=hash_key(key), key_prefix=key[:12])


def create(conn: Any, name: str, rate_limit: int, scopes: tuple[str, ...] = ()) -> NewKey:
    """Store a new key named ``name`` that may take the ``scopes`` actions; ValueError when
    the name is taken or a scope is unknown."""
    import psycopg

    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s) {unknown}; known: {list(SCOPES)}")
    made = new_key()
    try:
        conn.execute(
            "INSERT INTO api_keys (name, key_hash, key_prefix, rate_limit_per_minute, scopes) "
            "VALUES (%s, %s, %s, %s, %s)",
            (name, made.key_hash, made.key_prefix, rate_limit, sorted(set(scopes))),
        )
    except psycopg.errors.UniqueViolation as exc:
        raise ValueError(f"an API key named {name!r} exists already") from exc
    return made


def list_keys(conn: Any) -> list[dict[str, Any]]:
    """Every key's name, prefix, limit and state (never the key)."""
    cur = conn.execute(
        "SELECT name, key_prefix, rate_limit_per_minute, scopes, created_at, revoked_at "
        "FROM api_keys ORDER BY created_at, name"
    )
    names = [c.name for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def revoke(conn: Any, server: redis.Redis, name: str) -> bool:
    """Revoke the key named ``name``, refused from the very next request on; False when there
    is no such active key.

    Commits ``conn`` and only then voids the API's cached key checks in ``server`` (a check
    made in between would otherwise outlive the revocation). Raises
    :class:`api.keychecks.ChecksNotVoided` when Redis does not answer: the key is revoked in
    PostgreSQL, and the error says how long cached checks may still let it in.
    """
    cur = conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL",
        (name,),
    )
    conn.commit()
    if cur.rowcount != 1:
        return False
    keychecks.void_all(server)
    return True
