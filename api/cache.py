"""Read-through cache in Redis: ``@cached(blp, Schema, *entities)`` on a data endpoint.

A response is stored under its normalised path and query, stamped with the versions of the
entities it was built from. The processors bump a version after each committed batch, so a
read after a batch finds the stamp outdated and is built afresh without waiting for a TTL.
The lookup itself is part of the request's admission (:mod:`api.gate`): a hit costs one Redis
round trip, no PostgreSQL and no parameter parsing (only valid parameters ever stored a body).
Responses carry an ETag (a hash of the body) for ``If-None-Match`` and ``no-cache``, so
clients revalidate cheaply instead of trusting a stale copy.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import redis
from flask import Response, current_app, g, request
from flask_smorest import Blueprint
from marshmallow import Schema

from api.dumping import compile_dump
from api.gate import Admission, Slot
from api.rendering import render
from api.stores import current_stores

log = logging.getLogger(__name__)

KEY = "sluice:api:cache:{digest}"
TTL_SECONDS = 300
#: the attribute naming the entities a cached view's responses are built from
ENTITIES = "sluice_cached_entities"


def cache_key(path: str, args: Iterable[tuple[str, str]]) -> str:
    """The key of a response: its path and sorted query parameters."""
    normal = json.dumps([path, sorted(args)], separators=(",", ":")).encode()
    return KEY.format(digest=hashlib.sha256(normal).hexdigest())


def etag_of(body: bytes) -> str:
    """A strong entity tag of a response body (unquoted; the header quotes it)."""
    return hashlib.sha256(body).hexdigest()[:32]


def respond(body: bytes, tag: str, state: str) -> Response:
    """A JSON response with ETag, Cache-Control and X-Cache; 304 when the client has it."""
    headers = {"ETag": f'"{tag}"', "Cache-Control": "no-cache", "X-Cache": state}
    if request.if_none_match.contains(tag):
        return Response(status=304, headers=headers)
    return Response(body, status=200, mimetype="application/json", headers=headers)


def request_cache() -> tuple[str, tuple[str, ...]] | None:
    """(response key, entities) when the matched endpoint is ``@cached``, else None."""
    view = current_app.view_functions.get(request.endpoint)
    method = "get" if request.method == "HEAD" else request.method.lower()
    handler = getattr(getattr(view, "view_class", None), method, None)
    entities = getattr(handler, ENTITIES, None)
    if entities is None:
        return None
    return cache_key(request.path, request.args.items(multi=True)), entities


def store(server: redis.Redis, slot: Slot, body: bytes, tag: str) -> None:
    """Keep ``body`` for later requests (a failure costs only the next request's speed)."""
    try:
        pipe = server.pipeline(transaction=True)
        pipe.hset(slot.key, mapping={"stamp": slot.stamp, "body": body, "etag": tag})
        pipe.expire(slot.key, TTL_SECONDS)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("could not cache %s (%s)", request.path, exc)


def cached(blp: Blueprint, schema: type[Schema], *entities: str) -> Callable:
    """Serve a data endpoint's 200 from the cache, or dump what the view returns through
    ``schema`` (its documented 200), store it and answer it.

    ``entities`` are the data versions the response depends on (``products``, ``quotes``).
    Only for endpoints of a data blueprint, whose admission looked the response up.
    """
    dump = compile_dump(schema())

    def decorate(view: Callable) -> Callable:
        documented = blp.alt_response(200, schema=schema, success=True)(view)

        @functools.wraps(documented)
        def serve(*args: Any, **kwargs: Any) -> Response:
            admission: Admission = g.admission
            if admission.body is not None:
                return respond(admission.body, admission.etag, admission.state)
            body = render(dump, documented(*args, **kwargs))
            tag = etag_of(body)
            if admission.slot is not None:
                store(current_stores().redis, admission.slot, body, tag)
            return respond(body, tag, admission.state)

        setattr(serve, ENTITIES, entities)
        return serve

    return decorate
