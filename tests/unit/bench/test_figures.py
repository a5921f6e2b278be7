"""Figures: ratios, goals and how numbers are shown (no benchmark runs, no speed asserted)."""

from __future__ import annotations

import pytest

from bench.figures import (
    TIMES,
    Expected,
    Goal,
    Quantity,
    complete,
    format_goal,
    format_number,
    format_quantity,
    format_ratio,
)

RATIO_ROW = Expected("a", "a ÷ b", Goal(">=", 0.15), "a", "b")
ABSOLUTE_ROW = Expected("p50", "fetch to API, p50", Goal("<", 2, suffix=" s"), "p50")


@pytest.mark.parametrize(
    ("value", "shown"),
    [(123456.7, "123,457"), (100, "100"), (12.34, "12.3"), (1.234, "1.23"), (0.1523, "0.152"),
     (0.00123, "0.00123"), (0, "0")],
)  # fmt: skip
def test_numbers_keep_about_three_significant_digits(value, shown):
    assert format_number(value) == shown


def test_a_goal_shows_its_target_as_the_issue_writes_it():
    assert str(Goal(">=", 0.15)) == f"≥0.15{TIMES}"
    assert str(Goal(">=", 1.6)) == f"≥1.6{TIMES}"
    assert str(Goal("<=", 5, suffix="")) == "≤5"
    assert str(Goal("<", 2, suffix=" s")) == "<2 s"
    assert format_goal(None) == "—"


def test_an_exact_goal_is_met_by_that_count_alone():
    goal = Goal("==", 5, suffix="")
    assert (str(goal), goal.met(5), goal.met(4), goal.met(6)) == ("=5", True, False, False)


def test_a_goal_with_an_unknown_operator_is_refused():
    with pytest.raises(ValueError, match="goal operator"):
        Goal("~", 1)


def test_the_ratio_divides_sluice_by_the_baseline_and_the_goal_judges_it():
    figure = RATIO_ROW.measured(Quantity(300, "msgs/s"), Quantity(1000, "msgs/s"))
    assert figure.ratio == pytest.approx(0.3)
    assert figure.met is True
    assert format_ratio(figure) == f"0.3{TIMES}"
    slow = RATIO_ROW.measured(Quantity(100, "msgs/s"), Quantity(1000, "msgs/s"))
    assert slow.met is False


def test_a_figure_without_a_baseline_is_judged_on_its_own_value():
    figure = ABSOLUTE_ROW.measured(Quantity(1.4, "s"))
    assert figure.ratio is None
    assert figure.met is True
    assert format_ratio(figure) == "—"
    assert ABSOLUTE_ROW.measured(Quantity(2.0, "s")).met is False


def test_an_unmeasured_figure_has_no_ratio_and_no_verdict():
    figure = RATIO_ROW.unmeasured("Kafka did not answer")
    assert (figure.ratio, figure.met, figure.reason) == (None, None, "Kafka did not answer")


def test_a_zero_baseline_gives_no_ratio_rather_than_an_error():
    assert RATIO_ROW.measured(Quantity(1, "x"), Quantity(0, "x")).ratio is None


def test_a_row_without_a_goal_has_a_ratio_but_no_verdict():
    row = Expected("m", "with ÷ without", None, "with", "without")
    figure = row.measured(Quantity(90, "rows/s"), Quantity(100, "rows/s"))
    assert figure.ratio == pytest.approx(0.9)
    assert figure.met is None
    assert format_ratio(figure) == f"0.9{TIMES}"


def test_quantities_show_their_unit_or_a_dash():
    assert format_quantity(Quantity(2510.4, "req/s")) == "2,510 req/s"
    assert format_quantity(None) == "—"


def test_complete_keeps_every_declared_row_in_order_and_marks_the_missing():
    other = Expected("b", "b", Goal(">=", 1), "b", "c")
    measured = other.measured(Quantity(2, "x"), Quantity(1, "x"))
    rows = complete([RATIO_ROW, other], [measured], "not returned")
    assert [row.key for row in rows] == ["a", "b"]
    assert rows[0].reason == "not returned"
    assert rows[1] is measured
