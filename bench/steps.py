"""Run one measurement so that its failure costs its own rows only.

A benchmark step that raises leaves its rows in the results, marked as not measured with
the error as the reason; the error is logged here, once, with its traceback, and the
benchmark goes on with its other steps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from bench.figures import Expected, Figure, complete

log = logging.getLogger(__name__)

T = TypeVar("T")


def attempt(rows: Sequence[Expected], measure: Callable[[], list[Figure]]) -> list[Figure]:
    """``measure()``'s figures for ``rows``; every row unmeasured, with the reason, if it fails.

    A row ``measure`` does not return is reported as not measured too, never dropped.
    """
    try:
        figures = measure()
    except SharedStepFailed as exc:  # logged where it failed
        return [row.unmeasured(str(exc)) for row in rows]
    except Exception as exc:  # the harness reports it in the row and keeps going
        names = ", ".join(row.key for row in rows)
        log.exception("benchmark step failed rows=%s", names)
        return [row.unmeasured(f"{type(exc).__name__}: {exc}") for row in rows]
    return complete(rows, figures, "the benchmark returned no figure for it")


class SharedStepFailed(RuntimeError):
    """A measurement several rows share failed; it was logged where it failed."""


class Once(Generic[T]):
    """A measurement several rows need (the normalizer's rate beside each baseline): run on
    first use, its result or its failure kept for every later use, the failure logged once."""

    def __init__(self, what: str, measure: Callable[[], T]) -> None:
        self.what = what
        self.measure = measure
        self.done = False
        self.value: T | None = None
        self.error: Exception | None = None

    def __call__(self) -> T:
        """The measurement's value; :class:`SharedStepFailed` when it failed (first or later)."""
        if not self.done:
            self.done = True
            try:
                self.value = self.measure()
            except Exception as exc:  # kept, and raised again to each row that needs it
                log.exception("benchmark step failed: %s", self.what)
                self.error = exc
        if self.error is not None:
            raise SharedStepFailed(
                f"{self.what} failed: {type(self.error).__name__}: {self.error}"
            ) from self.error
        return self.value  # type: ignore[return-value]
