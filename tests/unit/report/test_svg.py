"""The report's SVG charts: one mark per datum, escaped text, a message instead of no data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from sluice.report import svg

HOSTILE = "<script>alert('x')</script>&\""


def tree(chart: str) -> ET.Element:
    """The chart as XML: parsing it also proves it well-formed."""
    return ET.fromstring(chart)  # noqa: S314 - our own output, built in this test


def rects(chart: str) -> list[ET.Element]:
    return [e for e in tree(chart).iter("rect") if e.get("class") == "bar"]


def texts(chart: str) -> list[str]:
    return ["".join(e.itertext()) for e in tree(chart).iter("text")]


def vertices(chart: str) -> list[tuple[float, float]]:
    (line,) = list(tree(chart).iter("polyline"))
    return [tuple(map(float, p.split(","))) for p in line.get("points").split()]


def test_a_bar_per_value_in_order_with_its_label_and_value():
    chart = svg.bar_chart(
        [("received", 12), ("stored", 9), ("rejected", 3)],
        title="Items by status",
        x_label="status",
        y_label="items",
    )
    bars = rects(chart)
    assert len(bars) == 3
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] > heights[1] > heights[2] > 0
    assert heights[1] / heights[0] == pytest.approx(9 / 12, abs=0.01)
    assert [b.find("title").text for b in bars] == ["received: 12", "stored: 9", "rejected: 3"]
    assert {"Items by status", "status", "items", "received", "12", "3"} <= set(texts(chart))


def test_a_zero_bar_is_still_a_bar():
    bars = rects(svg.bar_chart([("up", 0), ("down", 2)], title="t", x_label="x", y_label="y"))
    assert len(bars) == 2
    assert float(bars[0].get("height")) == 0


def test_count_axes_have_whole_ticks():
    chart = svg.bar_chart([("a", 3)], title="t", x_label="x", y_label="y")
    ticks = [t for t in texts(chart) if re.fullmatch(r"[\d.,]+", t)]
    assert "0.5" not in ticks
    assert svg.nice_ticks(0, 3, integer=True) == [0, 1, 2, 3]
    assert svg.nice_ticks(0, 57_700) == [0, 20_000, 40_000, 60_000]


def test_many_or_long_labels_are_turned_and_cut_but_kept_whole_in_the_tooltip():
    label = "invalid_item/" + "x" * 40
    chart = svg.bar_chart([(label, 1)], title="t", x_label="x", y_label="y")
    assert "rotate(-35)" in chart
    assert rects(chart)[0].find("title").text == f"{label}: 1"
    assert label not in texts(chart)


def test_negative_bars_are_refused():
    with pytest.raises(ValueError, match=">= 0"):
        svg.bar_chart([("a", -1)], title="t", x_label="x", y_label="y")


@pytest.mark.parametrize(
    "chart",
    [
        lambda **kw: svg.bar_chart([], **kw),
        lambda **kw: svg.line_chart([], **kw),
        lambda **kw: svg.histogram([], **kw),
    ],
)
def test_no_data_is_a_message_not_empty_axes(chart):
    drawn = chart(title="Rejected items", x_label="x", y_label="y", empty="Nothing rejected.")
    assert texts(drawn) == ["Rejected items", "Nothing rejected."]
    assert "chart-empty" in drawn
    assert not rects(drawn)
    assert "<line" not in drawn and "<polyline" not in drawn


def test_every_text_is_escaped():
    chart = svg.bar_chart(
        [(HOSTILE, 1)], title=HOSTILE, x_label=HOSTILE, y_label=HOSTILE, empty=HOSTILE
    )
    assert "<script" not in chart
    assert "&lt;script&gt;" in chart
    assert HOSTILE in texts(chart)  # well-formed, and reads back as the original text
    assert "<script" not in svg.no_data(HOSTILE, HOSTILE)
    line = svg.line_chart([(0, 1)], title=HOSTILE, x_label=HOSTILE, y_label=HOSTILE)
    assert "<script" not in line and HOSTILE in texts(line)


def test_a_line_has_one_vertex_per_point_sorted_by_x():
    points = [(3, 30), (1, 10), (2, 20), (4, 35)]
    chart = svg.line_chart(points, title="t", x_label="time", y_label="items")
    drawn = vertices(chart)
    assert len(drawn) == 4
    xs = [x for x, _ in drawn]
    assert xs == sorted(xs)
    ys = [y for _, y in drawn]
    assert ys == sorted(ys, reverse=True)  # SVG y grows downwards: the line only rises
    assert "35" in texts(chart)  # the last value is labelled


def test_a_step_line_holds_each_value_until_the_next_point():
    drawn = vertices(
        svg.line_chart([(0, 0), (1, 5), (2, 7)], title="t", x_label="x", y_label="y", step=True)
    )
    assert len(drawn) == 5
    assert drawn[1][0] == drawn[2][0] and drawn[1][1] == drawn[0][1]


def test_a_single_point_is_drawn():
    chart = svg.line_chart([(100, 7)], title="t", x_label="x", y_label="y")
    assert len(vertices(chart)) == 1
    assert "7" in texts(chart)


def test_histogram_bins_are_round_with_zero_an_edge():
    values = [-0.2, -0.05, 0.1, 0.1, 0.2, 0.25]
    bins = svg.bin_values(values, bins=10)
    assert sum(b.count for b in bins) == len(values)
    assert len(bins) <= 10
    assert 0 in [b.low for b in bins]
    assert all(b.high - b.low == pytest.approx(0.05) for b in bins)
    # a value on an edge goes to the bin it starts; the largest closes the last bin
    assert [b.count for b in bins if b.low == pytest.approx(0.1)] == [2]
    assert bins[-1].low == pytest.approx(0.2) and bins[-1].high == pytest.approx(0.25)
    assert bins[-1].count == 2

    chart = svg.histogram(values, bins=10, title="Relative change", x_label="change")
    assert len(rects(chart)) == len(bins)
    assert [r.find("title").text.rsplit(": ", 1)[1] for r in rects(chart)] == [
        str(b.count) for b in bins
    ]


def test_histogram_of_equal_values_is_one_bin():
    bins = svg.bin_values([0.05, 0.05, 0.05])
    assert len(bins) == 1 and bins[0].count == 3
    assert len(rects(svg.histogram([0.05] * 3, title="t", x_label="x"))) == 1


def test_histogram_never_has_more_bins_than_asked():
    for n in (1, 3, 7, 20):
        assert 1 <= len(svg.bin_values([0.0, 0.013, 0.5, 0.999], bins=n)) <= n
    with pytest.raises(ValueError):
        svg.bin_values([1.0], bins=0)


def test_charts_load_nothing():
    chart = svg.histogram([0.1, 0.2], title="t", x_label="x")
    assert "http" not in chart and "xmlns" not in chart and "href" not in chart


def test_numbers():
    assert svg.number(57_700) == "57,700"
    assert svg.number(2.0) == "2"
    assert svg.number(1.25) == "1.25"
    assert svg.number(0.0123) == "0.0123"
