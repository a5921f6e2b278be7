"""Daily prices that drift a little, on some days, for some products.

A price only changes on a product's "change days" (about 30% of days, drawn per product and
day), and on such a day it moves to a level that follows a slow seasonal curve plus a few
percent of noise. Between change days the price holds, so consecutive days often agree. The
price on any day is computed directly (the nearest change day at or before it is found by
looking back a few days), never by replaying history from an epoch.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from demo.rng import signed_unit, unit

CHANGE_SHARE = 0.30
# Looking back this many days without a change day is vanishingly rare (0.7 ** 60); the base
# level is used then, which keeps the lookup bounded.
MAX_LOOKBACK_DAYS = 60
CENT = Decimal("0.01")


def change_day(seed: int, key: str, day: date) -> bool:
    """Whether the price of ``key`` changes on ``day`` (relative to the day before)."""
    return unit(seed, "price-change", key, day.toordinal()) < CHANGE_SHARE


def _level(seed: int, key: str, ordinal: int) -> float:
    phase = unit(seed, "price-phase", key) * 2 * math.pi
    seasonal = 0.06 * math.sin(2 * math.pi * ordinal / 120 + phase)
    noise = 0.025 * signed_unit(seed, "price-noise", key, ordinal)
    return 1.0 + seasonal + noise


def price_on(seed: int, key: str, base: Decimal, day: date) -> Decimal:
    """The price of ``key`` (base price ``base``) on ``day``, two decimals, always > 0."""
    ordinal = day.toordinal()
    level = 1.0
    for back in range(MAX_LOOKBACK_DAYS):
        candidate = date.fromordinal(ordinal - back)
        if change_day(seed, key, candidate):
            level = _level(seed, key, candidate.toordinal())
            break
    price = (base * Decimal(repr(level))).quantize(CENT, rounding=ROUND_HALF_UP)
    return max(price, CENT)
