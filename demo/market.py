"""The demo market: end-of-day quotes for about fifty fictional symbols on any date.

A symbol's price on a day is a closed-form function of (seed, symbol, date): a yearly swing, a
shorter cycle and a little daily noise around a base level. So any date can be served without
history, and the change is simply today's price minus the previous calendar day's price.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from demo.market_data import SYMBOLS
from demo.rng import signed_unit, unit

CENT = Decimal("0.01")
CURRENCY = "USD"
CLOSE_TIME = "21:00:00Z"  # 16:00 New York in winter; one fixed instant keeps as_of simple


class Market:
    """Quotes for every symbol of the demo market, for one seed."""

    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        self.symbols: list[dict[str, str]] = [
            {"symbol": symbol, "name": name, "exchange": exchange}
            for symbol, name, exchange in sorted(SYMBOLS)
        ]

    def price_on(self, symbol: str, day: date) -> Decimal:
        """The closing price of ``symbol`` on ``day`` (two decimals, > 0)."""
        base = math.exp(unit(self.seed, "base", symbol) * math.log(600 / 8)) * 8
        t = day.toordinal()
        yearly = 0.20 * math.sin(2 * math.pi * t / 365.25 + 6.3 * unit(self.seed, "y", symbol))
        cycle = 0.06 * math.sin(2 * math.pi * t / 41 + 6.3 * unit(self.seed, "c", symbol))
        noise = 0.015 * signed_unit(self.seed, "noise", symbol, t)
        price = Decimal(repr(base * math.exp(yearly + cycle + noise)))
        return max(price.quantize(CENT, rounding=ROUND_HALF_UP), CENT)

    def quote(self, entry: dict[str, str], day: date) -> dict:
        """One symbol's quote dict on ``day`` (the item contract's quote fields)."""
        symbol = entry["symbol"]
        price = self.price_on(symbol, day)
        previous = self.price_on(symbol, day - timedelta(days=1))
        change = price - previous
        change_pct = (change / previous * 100).quantize(CENT, rounding=ROUND_HALF_UP)
        base_volume = 10 ** (5 + 2.5 * unit(self.seed, "volume", symbol))
        wobble = signed_unit(self.seed, "volume-day", symbol, day.toordinal())
        volume = int(base_volume * (1 + 0.4 * wobble))
        return {
            "symbol": symbol,
            "name": entry["name"],
            "exchange": entry["exchange"],
            "price": format(price, "f"),
            "currency": CURRENCY,
            "change": format(change, "f"),
            "change_pct": format(change_pct, "f"),
            "volume": volume,
            "as_of": f"{day.isoformat()}T{CLOSE_TIME}",
            "trade_date": day.isoformat(),
        }

    def quotes_on(self, day: date) -> list[dict]:
        """Every symbol's quote on ``day``, ordered by symbol."""
        return [self.quote(entry, day) for entry in self.symbols]
