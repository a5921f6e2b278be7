"""Keyset pagination: an opaque cursor holding the last row's sort value and id."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from api.errors import invalid_parameter
from api.text import unstorable


def encode_cursor(sort: str, value: Any, row_id: int | str) -> str:
    """The cursor that continues after the row (``value``, ``row_id``) in order ``sort``."""
    if isinstance(value, datetime):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = str(value)
    raw = json.dumps([sort, value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str, sort: str, kind: str, parameter: str = "cursor"
) -> tuple[Any, int | str]:
    """(sort value, id) from a cursor made for ``sort``; 400 naming ``parameter`` otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, value, row_id = json.loads(raw)
        if made_for != sort:
            raise ValueError("cursor made for another sort order")
        if not isinstance(row_id, int | str) or isinstance(row_id, bool):
            raise ValueError("no row position")
        for part in (value, row_id):
            if isinstance(part, str) and (problem := unstorable(part)):
                raise ValueError(problem)
        return _typed(value, kind), row_id
    except (ValueError, TypeError, binascii.Error, InvalidOperation, UnicodeDecodeError) as exc:
        raise invalid_parameter(parameter, f"not a cursor of this listing ({exc})") from exc


def _typed(value: Any, kind: str) -> Any:
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("expected an integer position")
        return value
    if kind == "decimal":
        return Decimal(str(value))
    if kind == "datetime":
        parsed = datetime.fromisoformat(str(value))
        if parsed.tzinfo is None:
            raise ValueError("expected a timestamp with a time zone")
        return parsed
    if kind == "date":
        return datetime.fromisoformat(str(value)).date()
    if not isinstance(value, str):
        raise ValueError("expected text")
    return value
