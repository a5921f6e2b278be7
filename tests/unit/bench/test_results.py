"""bench/RESULTS.md as rendered from figures (no benchmark runs, no speed asserted)."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.figures import TIMES, Expected, Goal, Quantity
from bench.machine import Machine
from bench.results import Run, Step, render

NORMALIZER = Expected(
    "normalizer_vs_copy", "normalizer ÷ raw COPY", Goal(">=", 0.07), "normalizer", "COPY"
)
FRESH = Expected("freshness_p95", "fetch → API, p95", Goal("<", 2, suffix=" s"), "p95")
TAIL = Expected("api_p99_vs_p50", "API p99 ÷ p50", Goal("<=", 5, suffix=""), "p99", "p50")


def run(load: float = 0.3, scale: float = 1.0, others: float | None = 0.02) -> Run:
    machine = Machine(cores=2, cpu_model="Example CPU @ 2.0GHz", load=load)
    return Run(
        began=datetime(2026, 12, 7, 8, 10, tzinfo=UTC),
        revision="abc123def456",
        scale=scale,
        before=machine,
        after=Machine(2, machine.cpu_model, 1.5),
        steps=(Step("processor_throughput", ("--rows", "20000"), 95.2),),
        others_cpu=others,
        others_cpu_unknown="" if others is not None else "no pid file",
    )


def table_rows(page: str) -> list[str]:
    return [line for line in page.splitlines() if line.startswith("| ") and "÷" in line]


def test_the_page_names_the_machine_the_date_and_the_revision():
    page = render(run(), [])
    assert "| date | 2026-12-07 08:10 UTC |" in page
    assert "| git | abc123def456 |" in page
    assert "| machine | 2 cores, Example CPU @ 2.0GHz |" in page
    assert "| machine busy | no |" in page
    assert "| other processes' CPU | 2% of all cores' time during the run |" in page
    assert "BENCH_SCALE=1 (full size)" in page
    assert "| `bench.processor_throughput` | `--rows 20000` | 95 |" in page


def test_a_busy_machine_and_a_reduced_run_say_so():
    page = render(run(load=1.8, scale=0.05), [])
    assert "| machine busy | yes:" in page
    assert "BENCH_SCALE=0.05 (reduced sizes" in page


def test_other_work_during_the_run_makes_it_busy_too():
    assert "| machine busy | yes:" in render(run(load=0.1, others=0.25), [])


def test_an_unknown_cpu_share_says_why():
    page = render(run(others=None), [])
    assert "| other processes' CPU | unknown (no pid file) |" in page


def test_each_row_shows_sluice_over_baseline_the_ratio_and_the_goal():
    figure = NORMALIZER.measured(Quantity(3812, "msgs/s"), Quantity(324767, "msgs/s"), "20,000")
    [row] = [r for r in table_rows(render(run(), [figure])) if "COPY" in r]
    assert row == (
        f"| normalizer ÷ raw COPY | 3,812 msgs/s ÷ 324,767 msgs/s | 0.0117{TIMES} "
        f"| ≥0.07{TIMES} | no |"
    )


def test_a_figure_without_baseline_is_judged_on_its_value():
    page = render(run(), [FRESH.measured(Quantity(1.85, "s"))])
    assert "| fetch → API, p95 | 1.85 s | — | <2 s | yes |" in page


def test_a_latency_ratio_has_no_times_sign():
    page = render(run(), [TAIL.measured(Quantity(10.2, "ms"), Quantity(2.06, "ms"))])
    assert "| API p99 ÷ p50 | 10.2 ms ÷ 2.06 ms | 4.95 | ≤5 | yes |" in page


def test_an_unmeasured_figure_keeps_its_row_and_its_reason_cell_stays_one_cell():
    figure = NORMALIZER.unmeasured("RuntimeError: gunicorn exited 1\nsee | the log")
    page = render(run(), [figure])
    assert (
        "| normalizer ÷ raw COPY | not measured: RuntimeError: gunicorn exited 1 see \\| the log "
        f"| — | ≥0.07{TIMES} | — |"
    ) in page
    assert "Not measured: RuntimeError: gunicorn exited 1 see | the log." in page


def test_a_long_reason_is_cut_in_the_table():
    page = render(run(), [NORMALIZER.unmeasured("x" * 1000)])
    [row] = [r for r in table_rows(page) if "not measured" in r]
    assert len(row) < 400
    assert "…" in row


def test_the_notes_say_how_each_figure_was_measured():
    figure = NORMALIZER.measured(Quantity(1, "msgs/s"), Quantity(2, "msgs/s"), "20,000 messages")
    page = render(run(), [figure])
    assert (
        "- **normalizer ÷ raw COPY**: Sluice: normalizer; baseline: COPY; 20,000 messages." in page
    )
