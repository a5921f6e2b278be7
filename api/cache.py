"""Read-through cache in Redis, keyed by the normalised query and the data versions.

The processors bump a per-entity version after each committed batch; a key built from the
new version has never been cached, so a read after a batch is fresh without waiting for a
TTL. Responses carry an ETag (a hash of the body) for ``If-None-Match`` and ``no-cache``, so
clients revalidate cheaply instead of trusting a stale copy.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import redis
from flask import Response, request

from sluice.storage import versions

log = logging.getLogger(__name__)

KEY = "sluice:api:cache:{digest}"
TTL_SECONDS = 300


def cache_key(path: str, args: Iterable[tuple[str, str]], versions_seen: dict[str, int]) -> str:
    """The key of a response: path, sorted query parameters and the entities' versions."""
    normal = json.dumps(
        [path, sorted(args), sorted(versions_seen.items())], separators=(",", ":")
    ).encode()
    return KEY.format(digest=hashlib.sha256(normal).hexdigest())


def etag_of(body: bytes) -> str:
    """A strong entity tag of a response body (unquoted; the header quotes it)."""
    return hashlib.sha256(body).hexdigest()[:32]


def respond(body: bytes, state: str) -> Response:
    """A JSON response with ETag, Cache-Control and X-Cache; 304 when the client has it."""
    tag = etag_of(body)
    headers = {"ETag": f'"{tag}"', "Cache-Control": "no-cache", "X-Cache": state}
    if request.if_none_match.contains(tag):
        return Response(status=304, headers=headers)
    return Response(body, status=200, mimetype="application/json", headers=headers)


def cached_json(
    server: redis.Redis | None, entities: list[str], build: Callable[[], Any]
) -> Response:
    """The response for this request from Redis, or built, stored and returned.

    Redis being away costs speed only: the response is built from PostgreSQL.
    """
    if server is None:
        return respond(_dump(build()), "BYPASS")
    try:
        seen = {entity: versions.current(server, entity) for entity in entities}
        key = cache_key(request.path, request.args.items(multi=True), seen)
        hit = server.get(key)
    except redis.RedisError as exc:
        log.warning("cache unavailable (%s); answering from PostgreSQL", exc)
        return respond(_dump(build()), "BYPASS")
    if hit is not None:
        return respond(hit, "HIT")
    body = _dump(build())
    try:
        server.set(key, body, ex=TTL_SECONDS)
    except redis.RedisError as exc:
        log.warning("could not cache %s (%s)", request.path, exc)
    return respond(body, "MISS")


def _dump(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
