"""Small, dependency-free SVG charts for the crawl report: bars, a line and a histogram.

Each function returns one ``<svg>`` element as a string, to be inlined into an HTML page.
Every piece of text is escaped here, so callers may pass whatever the database holds. With
no data, a chart is replaced by its title and a message: empty axes would read as "zero".

The SVG carries no ``xmlns`` attribute: inline SVG in HTML does not need it, and leaving it
out keeps the report free of any URL at all.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 300
# Room around the plot: the title above, tick labels and axis titles left and below.
TOP, RIGHT, BOTTOM, LEFT = 40, 20, 56, 72
# Rotated category labels need more room below the plot.
BOTTOM_ROTATED = 116
LABEL_CHARS = 24

Formatter = Callable[[float], str]


def esc(value: object) -> str:
    """``value`` as text safe inside HTML/SVG content and quoted attributes."""
    return html.escape(str(value), quote=True)


def number(value: float) -> str:
    """A count as ``1,234``; other values with a precision that suits their size."""
    value = float(value)
    if value.is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def nice_ticks(low: float, high: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Round tick values covering [low, high], about ``count`` steps of 1, 2, 2.5 or 5 x 10^n.

    With ``integer`` the step is a whole number, so counts never get ticks such as 0.5.
    """
    if high <= low:
        high = low + 1
    raw = (high - low) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    multiples = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in multiples if m * magnitude >= raw)
    if integer:
        step = max(1.0, float(math.ceil(step)))
    first = math.floor(low / step) * step
    ticks = []
    i = 0
    while True:
        tick = first + i * step
        ticks.append(round(tick, 12))
        if tick >= high - step * 1e-9:
            break
        i += 1
    return ticks


@dataclass(frozen=True)
class _Plot:
    """The plot area of a chart and its scales."""

    width: float
    height: float
    bottom: float
    x0: float
    x1: float
    y0: float
    y1: float

    @property
    def left(self) -> float:
        return LEFT

    @property
    def right(self) -> float:
        return self.width - RIGHT

    @property
    def base(self) -> float:
        """The y pixel of the plot's lower edge."""
        return self.height - self.bottom

    def sx(self, x: float) -> float:
        return LEFT + (x - self.x0) / (self.x1 - self.x0) * (self.right - LEFT)

    def sy(self, y: float) -> float:
        return self.base - (y - self.y0) / (self.y1 - self.y0) * (self.base - TOP)


def _svg(title: str, body: str, *, width: float, height: float, css: str = "chart") -> str:
    return (
        f'<svg class="{css}" viewBox="0 0 {width:g} {height:g}" width="{width:g}" '
        f'height="{height:g}" role="img" aria-label="{esc(title)}">'
        f"<title>{esc(title)}</title>"
        f'<text class="chart-title" x="{width / 2:g}" y="22" text-anchor="middle">'
        f"{esc(title)}</text>{body}</svg>"
    )


def no_data(title: str, message: str, *, width: float = WIDTH, height: float = 120) -> str:
    """The stand-in of a chart without data: its title and ``message``, no axes."""
    body = (
        f'<text class="no-data" x="{width / 2:g}" y="{height / 2 + 12:g}" '
        f'text-anchor="middle">{esc(message)}</text>'
    )
    return _svg(title, body, width=width, height=height, css="chart chart-empty")


def _axes(
    plot: _Plot, y_ticks: list[float], y_format: Formatter, x_label: str, y_label: str
) -> str:
    parts = []
    for tick in y_ticks:
        y = plot.sy(tick)
        parts.append(
            f'<line class="grid" x1="{plot.left:g}" x2="{plot.right:g}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{plot.left - 6:g}" y="{y + 4:.1f}" text-anchor="end">'
            f"{esc(y_format(tick))}</text>"
        )
    parts.append(
        f'<line class="axis" x1="{plot.left:g}" x2="{plot.right:g}" '
        f'y1="{plot.base:g}" y2="{plot.base:g}"/>'
        f'<line class="axis" x1="{plot.left:g}" x2="{plot.left:g}" '
        f'y1="{TOP:g}" y2="{plot.base:g}"/>'
        f'<text class="axis-label" x="{(plot.left + plot.right) / 2:g}" '
        f'y="{plot.height - 8:g}" text-anchor="middle">{esc(x_label)}</text>'
        f'<text class="axis-label" text-anchor="middle" '
        f'transform="translate(16 {(TOP + plot.base) / 2:g}) rotate(-90)">{esc(y_label)}</text>'
    )
    return "".join(parts)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _all_whole(values: Sequence[float]) -> bool:
    return all(float(v).is_integer() for v in values)


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    empty: str = "No data to plot.",
    y_format: Formatter = number,
    width: float = WIDTH,
    height: float = HEIGHT,
) -> str:
    """One ``<rect class="bar">`` per ``(label, value)``, in the given order, values >= 0.

    Each bar is labelled with its value; long or many category labels are turned and cut
    (the full label stays in the bar's tooltip).
    """
    bars = [(str(label), float(value)) for label, value in bars]
    if not bars:
        return no_data(title, empty, width=width)
    if any(value < 0 for _, value in bars):
        raise ValueError("bar_chart draws counts: every value must be >= 0")
    rotate = len(bars) > 6 or any(len(label) > 12 for label, _ in bars)
    bottom = BOTTOM_ROTATED if rotate else BOTTOM
    height += bottom - BOTTOM
    values = [value for _, value in bars]
    ticks = nice_ticks(0, max(max(values), 1), integer=_all_whole(values))
    plot = _Plot(width, height, bottom, 0, len(bars), ticks[0], ticks[-1])
    slot = (plot.right - plot.left) / len(bars)
    bar_width = slot * 0.7
    parts = [_axes(plot, ticks, y_format, x_label, y_label)]
    for i, (label, value) in enumerate(bars):
        x = plot.left + i * slot + (slot - bar_width) / 2
        y = plot.sy(value)
        centre = x + bar_width / 2
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" '
            f'height="{plot.base - y:.1f}"><title>{esc(label)}: {esc(number(value))}</title>'
            f"</rect>"
            f'<text class="value" x="{centre:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
            f"{esc(number(value))}</text>"
        )
        if rotate:
            parts.append(
                f'<text class="tick" text-anchor="end" '
                f'transform="translate({centre:.1f} {plot.base + 12:g}) rotate(-35)">'
                f"{esc(_short(label))}</text>"
            )
        else:
            parts.append(
                f'<text class="tick" x="{centre:.1f}" y="{plot.base + 16:g}" '
                f'text-anchor="middle">{esc(label)}</text>'
            )
    return _svg(title, "".join(parts), width=width, height=height)


def line_chart(
    points: Sequence[tuple[float, float]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    empty: str = "No data to plot.",
    x_format: Formatter = number,
    y_format: Formatter = number,
    step: bool = False,
    width: float = WIDTH,
    height: float = HEIGHT,
) -> str:
    """A ``<polyline class="line">`` through ``(x, y)`` points, sorted by x.

    The polyline has one vertex per point; with ``step`` it holds each value until the next
    point and rises there (a running count), which adds a vertex before every point but the
    first. The last point is marked and labelled.
    """
    points = sorted((float(x), float(y)) for x, y in points)
    if not points:
        return no_data(title, empty, width=width)
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    x0, x1 = xs[0], xs[-1]
    if x0 == x1:
        # A single moment still needs a width to be drawn at.
        x0, x1 = x0 - 1, x1 + 1
    ticks = nice_ticks(min(0.0, min(ys)), max(max(ys), 1), integer=_all_whole(ys))
    plot = _Plot(width, height, BOTTOM, x0, x1, ticks[0], ticks[-1])
    parts = [_axes(plot, ticks, y_format, x_label, y_label)]
    for i in range(5):
        x = x0 + (x1 - x0) * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(
            f'<line class="axis" x1="{plot.sx(x):.1f}" x2="{plot.sx(x):.1f}" '
            f'y1="{plot.base:g}" y2="{plot.base + 4:g}"/>'
            f'<text class="tick" x="{plot.sx(x):.1f}" y="{plot.base + 16:g}" '
            f'text-anchor="{anchor}">{esc(x_format(x))}</text>'
        )
    corners = []
    for i, (x, y) in enumerate(points):
        if step and i:
            corners.append((x, points[i - 1][1]))
        corners.append((x, y))
    vertices = " ".join(f"{plot.sx(x):.1f},{plot.sy(y):.1f}" for x, y in corners)
    last_x, last_y = points[-1]
    parts.append(
        f'<polyline class="line" fill="none" points="{vertices}"/>'
        f'<circle class="point" cx="{plot.sx(last_x):.1f}" cy="{plot.sy(last_y):.1f}" r="3">'
        f"<title>{esc(x_format(last_x))}: {esc(y_format(last_y))}</title></circle>"
        f'<text class="value" x="{plot.sx(last_x) - 6:.1f}" y="{plot.sy(last_y) - 8:.1f}" '
        f'text-anchor="end">{esc(y_format(last_y))}</text>'
    )
    return _svg(title, "".join(parts), width=width, height=height)


@dataclass(frozen=True)
class Bin:
    """How many values lie in [low, high) (the last bin also holds those equal to ``high``)."""

    low: float
    high: float
    count: int


# Edges are multiples of the width computed in floating point: 0.15 / 0.05 is 2.9999...
# A value within this fraction of a width below an edge belongs to the bin above it.
_EDGE = 1e-9


def _nice_step(raw: float) -> float:
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def bin_values(values: Sequence[float], bins: int = 20) -> list[Bin]:
    """Equal-width bins covering ``values``, about ``bins`` of them (never more).

    The width is a round number (1, 2, 2.5 or 5 x 10^n) and edges are its multiples, so 0 is
    always an edge: no bin mixes falls with rises. Empty ``values``: no bins.
    """
    if bins < 1:
        raise ValueError("bins must be at least 1")
    if not values:
        return []
    low, high = float(min(values)), float(max(values))
    # All values equal: one bin, wide enough to draw, starting at them.
    width = _nice_step(abs(low) * 0.1 or 0.01) if low == high else _nice_step((high - low) / bins)
    first = math.floor(low / width + _EDGE)
    # A value on the top edge of the last bin is counted in it, not in a bin of its own.
    last = max(first, math.ceil(high / width - _EDGE) - 1)
    if last - first + 1 > bins:
        # Rounding of the edges needed one bin too many: the next round width fits.
        width = _nice_step(width * 1.01)
        first = math.floor(low / width + _EDGE)
        last = max(first, math.ceil(high / width - _EDGE) - 1)
    counts = [0] * (last - first + 1)
    for value in values:
        index = min(max(math.floor(float(value) / width + _EDGE) - first, 0), len(counts) - 1)
        counts[index] += 1
    return [
        Bin(round((first + i) * width, 12), round((first + i + 1) * width, 12), n)
        for i, n in enumerate(counts)
    ]


def histogram(
    values: Sequence[float],
    *,
    title: str,
    x_label: str,
    y_label: str = "count",
    bins: int = 20,
    empty: str = "No data to plot.",
    x_format: Formatter = number,
    width: float = WIDTH,
    height: float = HEIGHT,
) -> str:
    """Adjacent ``<rect class="bar">``, one per bin of :func:`bin_values`, counting ``values``
    in equal-width ranges of round width."""
    binned = bin_values(values, bins)
    if not binned:
        return no_data(title, empty, width=width)
    counts = [b.count for b in binned]
    ticks = nice_ticks(0, max(max(counts), 1), integer=True)
    plot = _Plot(width, height, BOTTOM, binned[0].low, binned[-1].high, ticks[0], ticks[-1])
    parts = [_axes(plot, ticks, number, x_label, y_label)]
    for b in binned:
        x, right, y = plot.sx(b.low), plot.sx(b.high), plot.sy(b.count)
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(right - x - 1, 0.5):.1f}" '
            f'height="{plot.base - y:.1f}"><title>{esc(x_format(b.low))} to '
            f"{esc(x_format(b.high))}: {b.count:,}</title></rect>"
        )
    # At most about six edge labels, so they never overlap.
    every = max(1, math.ceil(len(binned) / 5))
    edges = [b.low for b in binned] + [binned[-1].high]
    shown = list(range(0, len(edges), every))
    if shown[-1] != len(edges) - 1:
        # The upper end is always labelled; it replaces a label too close to it.
        if len(edges) - 1 - shown[-1] < every / 2:
            shown.pop()
        shown.append(len(edges) - 1)
    for i in shown:
        x = plot.sx(edges[i])
        parts.append(
            f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{plot.base:g}" '
            f'y2="{plot.base + 4:g}"/>'
            f'<text class="tick" x="{x:.1f}" y="{plot.base + 16:g}" text-anchor="middle">'
            f"{esc(x_format(edges[i]))}</text>"
        )
    return _svg(title, "".join(parts), width=width, height=height)
