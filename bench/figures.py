"""The one result type every benchmark returns: a Sluice figure beside its baseline.

A :class:`Figure` holds the two numbers measured side by side in one run, the goal the
performance targets set for their ratio (or for the Sluice number alone, when there is no
baseline), and — when it could not be measured — why not. The harness renders these into
``bench/RESULTS.md``; the benchmark modules print them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "<": operator.lt,
    ">": operator.gt,
    "==": operator.eq,
}
#: the multiplication sign, shown after a ratio
TIMES = "\u00d7"
_SHOWN = {">=": "≥", "<=": "≤", "<": "<", ">": ">", "==": "="}


@dataclass(frozen=True)
class Quantity:
    """A measured number and its unit (``msgs/s``, ``ms``, ``s``)."""

    value: float
    unit: str


@dataclass(frozen=True)
class Goal:
    """The performance target: ``op target`` of the ratio, or of the Sluice figure
    itself when the figure has no baseline. ``suffix`` follows the target (the times sign)."""

    op: str
    target: float
    suffix: str = TIMES

    def __post_init__(self) -> None:
        if self.op not in _COMPARE:
            raise ValueError(f"goal operator {self.op!r} is not one of {sorted(_COMPARE)}")

    def met(self, value: float) -> bool:
        """True when ``value`` reaches the goal."""
        return _COMPARE[self.op](value, self.target)

    def __str__(self) -> str:
        return f"{_SHOWN[self.op]}{self.target:g}{self.suffix}"


@dataclass(frozen=True)
class Expected:
    """A row the table must hold, declared before anything runs, so a benchmark that fails
    early still leaves its rows in the table (marked as not measured). ``goal`` is None for a
    figure with no target; ``baseline_side`` is empty for a figure
    without a baseline (its goal then applies to the Sluice figure itself)."""

    key: str
    label: str
    goal: Goal | None
    sluice_side: str
    baseline_side: str = ""

    def measured(
        self, sluice: Quantity, baseline: Quantity | None = None, note: str = ""
    ) -> Figure:
        """This row with its numbers."""
        return Figure(self, sluice=sluice, baseline=baseline, note=note)

    def unmeasured(self, reason: str) -> Figure:
        """This row, not measured because of ``reason``."""
        return Figure(self, reason=reason)


@dataclass(frozen=True)
class Figure:
    """One row of the results: Sluice's number, the baseline's, their ratio and the goal."""

    expected: Expected
    sluice: Quantity | None = None
    baseline: Quantity | None = None
    note: str = ""
    reason: str = ""

    @property
    def key(self) -> str:
        """The row's stable name."""
        return self.expected.key

    @property
    def ratio(self) -> float | None:
        """Sluice ÷ baseline; None without both numbers (or with a zero baseline)."""
        if self.sluice is None or self.baseline is None or self.baseline.value == 0:
            return None
        return self.sluice.value / self.baseline.value

    @property
    def judged(self) -> float | None:
        """The number the goal applies to: the ratio, or the Sluice figure without a baseline."""
        if self.expected.baseline_side:
            return self.ratio
        return self.sluice.value if self.sluice is not None else None

    @property
    def met(self) -> bool | None:
        """Whether the goal is reached; None when the figure was not measured."""
        judged, goal = self.judged, self.expected.goal
        return None if judged is None or goal is None else goal.met(judged)

    def with_reason(self, reason: str) -> Figure:
        """The same row, not measured because of ``reason``."""
        return replace(self, sluice=None, baseline=None, reason=reason)


def format_number(value: float) -> str:
    """A number with about three significant digits, thousands separated (1,234 / 12.3 /
    0.152)."""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def format_quantity(quantity: Quantity | None) -> str:
    """``1,234 msgs/s``; an em dash when there is nothing."""
    if quantity is None:
        return "—"
    return f"{format_number(quantity.value)} {quantity.unit}".rstrip()


def format_goal(goal: Goal | None) -> str:
    """The goal as the target states it, or an em dash when it sets none."""
    return "—" if goal is None else str(goal)


def format_ratio(figure: Figure) -> str:
    """The ratio followed by the goal's suffix (``0.152`` and the times sign), or an em dash."""
    ratio = figure.ratio
    if ratio is None:
        return "—"
    goal = figure.expected.goal
    return f"{format_number(ratio)}{TIMES if goal is None else goal.suffix}"


def complete(expected: Iterable[Expected], figures: Iterable[Figure], reason: str) -> list[Figure]:
    """Every expected row, in the declared order: the measured figure if there is one, else
    the row marked unmeasured with ``reason``. Figures of rows nobody declared come last."""
    by_key = {figure.key: figure for figure in figures}
    rows = []
    for row in expected:
        rows.append(by_key.pop(row.key, None) or row.unmeasured(reason))
    return rows + list(by_key.values())


def print_figures(figures: Iterable[Figure]) -> None:
    """Print figures as a plain table (each benchmark's own output)."""
    print(f"{'figure':<58} {'Sluice':>16} {'baseline':>16} {'ratio':>9} {'goal':>8}")
    for figure in figures:
        if figure.reason:
            print(f"{figure.expected.label:<58} not measured: {figure.reason}")
            continue
        print(
            f"{figure.expected.label:<58} {format_quantity(figure.sluice):>16} "
            f"{format_quantity(figure.baseline):>16} {format_ratio(figure):>9} "
            f"{format_goal(figure.expected.goal):>8}"
        )
