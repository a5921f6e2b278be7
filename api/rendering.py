"""Response bodies: dumped through the schema the endpoint declares, encoded compactly.

The schema's dump (compiled once, :mod:`api.dumping`) is what the OpenAPI document promises,
so the contract and the bytes sent are one thing; msgspec encodes the dumped plain data
several times faster than ``json``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from api.dumping import Dump


def render(dump: Dump, payload: Any) -> bytes:
    """``payload`` dumped by ``dump`` (a compiled schema) as compact UTF-8 JSON."""
    return msgspec.json.encode(dump(payload))
