"""Text a request may carry into a PostgreSQL query.

PostgreSQL's text types cannot hold the NUL character, and UTF-8 cannot encode an unpaired
surrogate; either one sent on to the database fails the query as a server error. Every text
parameter is checked here first so the caller gets a 400 naming the parameter instead.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(value: str) -> str | None:
    """Why PostgreSQL cannot take ``value`` as text, or None when it can."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain a NUL character (\\u0000)"
    return f"must not contain an unpaired surrogate (\\u{ord(found.group()):04x})"
