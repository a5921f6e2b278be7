"""Data-quality results, thresholds and the readable summary of what broke (no I/O here)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

#: the checks :func:`sluice.quality.run_checks` knows, in the order it runs them
CHECK_NAMES: tuple[str, ...] = (
    "row_count_vs_previous",
    "null_rate",
    "positive_prices",
    "iso_currency",
    "duplicates",
    "freshness",
)

#: the tables whose columns a null-rate threshold may name
NULL_RATE_TABLES = ("products", "quotes")

# Columns the data contract requires get no tolerance: the schemas refuse such items, so a
# missing value means a constraint or a validation step is gone. Optional descriptive columns
# may be absent on some pages of a site.
DEFAULT_MAX_NULL_RATES: Mapping[str, float] = {
    "products.name": 0.0,
    "products.price": 0.0,
    "products.currency": 0.0,
    "products.brand": 0.05,
    "products.category": 0.05,
    "quotes.price": 0.0,
    "quotes.currency": 0.0,
}

_COLUMN = re.compile(r"^(?P<table>[a-z_]+)\.(?P<column>[a-z_][a-z0-9_]*)$")


@dataclass(frozen=True)
class Thresholds:
    """What each check tolerates; the defaults suit a daily crawl of a stable site."""

    #: largest tolerated drop of a spider's stored items against its previous finished run,
    #: as a share of the previous count (0.5: fewer than half as many items fails)
    max_row_drop: float = 0.5
    #: largest tolerated share of missing (NULL or blank) values, per ``table.column``
    max_null_rate: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MAX_NULL_RATES))
    #: rows with a price that is missing or not greater than 0, per table and source
    max_bad_prices: int = 0
    #: rows whose currency is not an active ISO 4217 code, per table and source
    max_bad_currencies: int = 0
    #: rows beyond the first of each key that differs only by case or whitespace
    max_duplicates: int = 0
    #: hours since a source's newest stored row, or a spider's newest finished run
    max_age_hours: float = 26.0

    def __post_init__(self) -> None:
        problems = []
        if not 0 <= self.max_row_drop <= 1:
            problems.append(f"max_row_drop={self.max_row_drop!r} is not a share in [0, 1]")
        for name, rate in self.max_null_rate.items():
            match = _COLUMN.match(name)
            if not match or match["table"] not in NULL_RATE_TABLES:
                problems.append(
                    f"max_null_rate key {name!r} is not 'table.column' with table one of "
                    f"{', '.join(NULL_RATE_TABLES)}"
                )
            elif not 0 <= rate <= 1:
                problems.append(f"max_null_rate[{name!r}]={rate!r} is not a share in [0, 1]")
        for name in ("max_bad_prices", "max_bad_currencies", "max_duplicates"):
            if getattr(self, name) < 0:
                problems.append(f"{name}={getattr(self, name)!r} is negative")
        if not self.max_age_hours > 0:
            problems.append(f"max_age_hours={self.max_age_hours!r} is not positive")
        if problems:
            raise ValueError("invalid data-quality thresholds: " + "; ".join(problems))

    def null_rate_columns(self) -> dict[str, list[tuple[str, float]]]:
        """``{table: [(column, max rate), ...]}`` in a stable order."""
        by_table: dict[str, list[tuple[str, float]]] = {}
        for name in sorted(self.max_null_rate):
            table, column = name.split(".", 1)
            by_table.setdefault(table, []).append((column, float(self.max_null_rate[name])))
        return by_table


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one scope (a table of a source, a spider, ...).

    ``observed`` and ``threshold`` are in the same unit (a share, a row count, hours), so a
    reader can compare them; ``details`` holds the evidence (counts, examples) as JSON values.
    """

    check_name: str
    scope: str
    passed: bool
    observed: float | None
    threshold: float | None
    details: dict[str, Any] = field(default_factory=dict)
    #: one readable sentence saying what was found
    message: str = ""

    def __post_init__(self) -> None:
        # Details go to a jsonb column, so they are made JSON values once, here.
        object.__setattr__(self, "details", jsonable(self.details))

    def line(self) -> str:
        """``check_name [scope]: message`` — one line of a summary."""
        return f"{self.check_name} [{self.scope}]: {self.message or _default_message(self)}"


class QualityError(Exception):
    """Some data-quality checks failed; the message is the readable summary."""

    def __init__(self, results: Iterable[CheckResult]) -> None:
        self.results = list(results)
        self.failures = [r for r in self.results if not r.passed]
        super().__init__(summary(self.results))


def summary(results: Iterable[CheckResult], *, limit: int = 50) -> str:
    """A readable multi-line text: how many checks failed, then one line per failure.

    At most ``limit`` failures are listed (the rest are counted), so a data set broken
    everywhere still gives a message a person can read in a task log.
    """
    results = list(results)
    failures = [r for r in results if not r.passed]
    if not results:
        return "data quality: no checks ran (nothing in scope)"
    if not failures:
        return f"data quality: all {len(results)} checks passed"
    lines = [f"data quality: {len(failures)} of {len(results)} checks failed"]
    lines += [f"- {r.line()}" for r in failures[:limit]]
    if len(failures) > limit:
        lines.append(f"- ... and {len(failures) - limit} more failures")
    return "\n".join(lines)


def raise_for_failures(results: Iterable[CheckResult]) -> None:
    """Raise :class:`QualityError` (message: :func:`summary`) if any check failed."""
    results = list(results)
    if any(not r.passed for r in results):
        raise QualityError(results)


def scope_of(
    table: str | None = None,
    column: str | None = None,
    source: str | None = None,
    spider: str | None = None,
    crawl_id: str | None = None,
) -> str:
    """The scope text of a result: ``products.brand source=shop.localhost``, ``spider=finance``."""
    parts = []
    if table:
        parts.append(f"{table}.{column}" if column else table)
    if source is not None:
        parts.append(f"source={source}")
    if spider is not None:
        parts.append(f"spider={spider}")
    if crawl_id is not None:
        parts.append(f"crawl={crawl_id}")
    return " ".join(parts) or "all"


def jsonable(value: Any) -> Any:
    """``value`` with datetimes, dates and decimals turned into JSON values (recursively)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _default_message(result: CheckResult) -> str:
    verdict = "passed" if result.passed else "failed"
    return f"{verdict} (observed {result.observed}, threshold {result.threshold})"
