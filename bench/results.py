"""``bench/RESULTS.md`` from one run's figures: what ran where, then one row per figure.

Pure: :func:`render` turns a :class:`Run` and its figures into Markdown, so the page can be
checked without running a benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bench.figures import Figure, format_goal, format_quantity, format_ratio
from bench.machine import Machine

#: a reason longer than this is cut in the table (the harness log has all of it)
REASON_CHARS = 300
#: other work's share of the CPU above which a run counts as made on a busy machine
BUSY_SHARE = 0.10


@dataclass(frozen=True)
class Step:
    """One benchmark module as the harness ran it."""

    name: str
    argv: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class Run:
    """Everything about a run that is not a figure."""

    began: datetime
    revision: str
    scale: float
    before: Machine
    after: Machine
    steps: Sequence[Step] = field(default_factory=tuple)
    others_cpu: float | None = None
    others_cpu_unknown: str = ""

    @property
    def busy(self) -> bool:
        """Whether other work ran beside the benchmarks: a 1-minute load average above half
        the cores when the run began, or other processes taking more than
        :data:`BUSY_SHARE` of the CPU during it. Its figures then understate the machine."""
        started_busy = self.before.load > self.before.cores / 2
        return started_busy or (self.others_cpu or 0.0) > BUSY_SHARE


def render(run: Run, figures: Sequence[Figure]) -> str:
    """The whole page."""
    lines = [
        "# Sluice benchmark results",
        "",
        "Written by `make bench`. Each ratio divides two figures measured side by side in this",
        "run, on this machine; the goals are Sluice's targets. Regenerate; do not edit.",
        "",
        *_facts(run),
        "",
        "| figure | Sluice figure ÷ baseline | = ratio | goal | met |",
        "|---|---|---|---|---|",
        *(_row(figure) for figure in figures),
        "",
        "## How each figure was measured",
        "",
        *(_how(figure) for figure in figures),
    ]
    if run.steps:
        lines += [
            "",
            "## Benchmarks run",
            "",
            "| module | arguments | seconds |",
            "|---|---|---|",
            *(
                f"| `bench.{step.name}` | `{' '.join(step.argv) or '(defaults)'}` "
                f"| {step.seconds:.0f} |"
                for step in run.steps
            ),
        ]
    return "\n".join(lines) + "\n"


def _facts(run: Run) -> list[str]:
    size = "full size" if run.scale >= 1 else "reduced sizes, a check of the harness"
    load = (
        f"{run.before.load:.2f} at the start, {run.after.load:.2f} at the end "
        f"(1-minute load average on {run.before.cores} cores)"
    )
    busy = "yes: other work ran beside it, so the figures understate the machine"
    if not run.busy:
        busy = "no"
    if run.others_cpu is not None:
        others = f"{run.others_cpu:.0%} of all cores' time during the run"
    else:
        others = f"unknown ({run.others_cpu_unknown or 'not measured'})"
    total = sum(step.seconds for step in run.steps)
    return [
        "| | |",
        "|---|---|",
        f"| date | {run.began:%Y-%m-%d %H:%M} UTC |",
        f"| git | {run.revision} |",
        f"| machine | {run.before.cores} cores, {run.before.cpu_model} |",
        f"| load | {load} |",
        f"| other processes' CPU | {others} |",
        f"| machine busy | {busy} |",
        f"| size | BENCH_SCALE={run.scale:g} ({size}) |",
        f"| duration | {total / 60:.1f} min |",
    ]


def _row(figure: Figure) -> str:
    label = _cell(figure.expected.label)
    goal = format_goal(figure.expected.goal)
    if figure.reason:
        return f"| {label} | not measured: {_cell(_short(figure.reason))} | — | {goal} | — |"
    measured = format_quantity(figure.sluice)
    if figure.baseline is not None:
        measured += f" ÷ {format_quantity(figure.baseline)}"
    met = {True: "yes", False: "no", None: "—"}[figure.met]
    return f"| {label} | {measured} | {format_ratio(figure)} | {goal} | {met} |"


def _how(figure: Figure) -> str:
    expected = figure.expected
    text = f"- **{expected.label}**: Sluice: {expected.sluice_side}"
    if expected.baseline_side:
        text += f"; baseline: {expected.baseline_side}"
    if figure.note:
        text += f"; {figure.note}"
    if figure.reason:
        text += f". Not measured: {_short(figure.reason)}"
    return text + "."


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= REASON_CHARS else flat[: REASON_CHARS - 1] + "…"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")
