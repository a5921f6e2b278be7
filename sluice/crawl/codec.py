"""Requests in the shared queue are JSON: readable with redis-cli, never unpickled.

A request is stored as the dict Scrapy's ``Request.to_dict`` produces. Bytes (bodies, header
values) are tagged ``{"__b64__": "..."}`` and a mapping with bytes keys (headers) becomes
``{"__bmap__": [[key, value], ...]}``. Keys are sorted so the same request always encodes to
the same bytes, which lets the queue's sorted set hold it once.
"""

from __future__ import annotations

import base64
import json
from typing import Any

_BYTES = "__b64__"
_BYTES_MAP = "__bmap__"


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {_BYTES: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        if any(isinstance(key, bytes) for key in value):
            pairs = [[_plain(k), _plain(v)] for k, v in value.items()]
            return {_BYTES_MAP: sorted(pairs, key=_order)}
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        # Iteration order of a set depends on the process's hash seed; sort for stable bytes.
        return sorted((_plain(v) for v in value), key=_order)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(
        f"a queued request can carry only JSON values and bytes, not {type(value).__name__}: "
        f"{value!r}"
    )


def _order(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _restore(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _BYTES in obj:
        return base64.b64decode(obj[_BYTES])
    if len(obj) == 1 and _BYTES_MAP in obj:
        return {key: value for key, value in obj[_BYTES_MAP]}
    return obj


def dumps(request_dict: dict[str, Any]) -> bytes:
    """Encode a request dict; raises TypeError naming a value JSON cannot hold."""
    return json.dumps(_plain(request_dict), sort_keys=True, separators=(",", ":")).encode()


def loads(data: bytes | str) -> dict[str, Any]:
    """Decode what :func:`dumps` wrote."""
    return json.loads(data, object_hook=_restore)
