"""Deterministic randomness keyed by values rather than by call order.

Every generated value (a product's brand, a price on a day, a quote's noise) is derived from the
seed and the identity of what it describes, so it does not depend on which pages were rendered
before, on the thread that renders them, or on PYTHONHASHSEED.
"""

from __future__ import annotations

import hashlib
import random


def _key(parts: tuple[object, ...]) -> str:
    return "\x1f".join(str(part) for part in parts)


def unit(*parts: object) -> float:
    """A float in [0, 1) fixed by ``parts`` (for example seed, sku and a day's ordinal)."""
    digest = hashlib.blake2b(_key(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def signed_unit(*parts: object) -> float:
    """A float in [-1, 1) fixed by ``parts``."""
    return unit(*parts) * 2.0 - 1.0


def rng(*parts: object) -> random.Random:
    """A ``random.Random`` seeded by ``parts``, for generating one record's attributes."""
    # Demo data, not secrets: the stdlib generator is exactly what is wanted here, and a string
    # seed is hashed with SHA-512 by ``random`` itself, so it is stable across processes.
    return random.Random(_key(parts))  # noqa: S311
