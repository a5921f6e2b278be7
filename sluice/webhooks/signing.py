"""How a webhook request is signed, and how a receiver checks it.

The body is signed with the subscriber's secret: ``X-Sluice-Signature: sha256=<hex>``, the
HMAC-SHA256 of the exact bytes sent. A receiver recomputes it over the bytes it received and
compares in constant time (:func:`verify`).
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Sluice-Signature"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret``."""
    return hmac.compare_digest(sign(secret, body), header)
