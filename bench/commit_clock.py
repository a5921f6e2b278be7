"""When a consumer's commits happened, and the throughput they add up to.

A consumer's rate is taken from its first commit to its last: start-up (imports, connections,
joining the group) is left out, and so is the first batch, whose start it cannot see. For
several consumers of one backlog the span runs from the earliest first commit to the latest
last one, and counts every message committed in it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass
class CommitClock:
    """A consumer's committed count and the wall-clock times of its first and last commit."""

    consumed: int = 0
    first_at: float | None = None
    first_batch: int = 0
    last_at: float | None = None

    def committed(self, consumed: int, now: float | None = None) -> None:
        """Record a commit covering ``consumed`` messages in all (wall clock: comparable
        across processes)."""
        now = time.time() if now is None else now
        if self.first_at is None:
            self.first_at, self.first_batch = now, consumed
        self.last_at, self.consumed = now, consumed

    def to_json(self) -> dict:
        """The clock as JSON-ready values."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> CommitClock:
        """A clock from :meth:`to_json`'s output."""
        return cls(**data)


def combined_rate(clocks: Sequence[CommitClock]) -> float:
    """Messages per second the consumers committed together, first commit to last.

    Raises ValueError when nothing was committed, or when the backlog went by too fast to time
    (all of it in the first batch): a bigger backlog is the cure.
    """
    started = [clock for clock in clocks if clock.first_at is not None]
    if not started:
        raise ValueError("no consumer committed anything")
    earliest = min(started, key=lambda clock: clock.first_at)
    span = max(clock.last_at for clock in started) - earliest.first_at
    counted = sum(clock.consumed for clock in started) - earliest.first_batch
    if span <= 0 or counted <= 0:
        total = sum(clock.consumed for clock in started)
        raise ValueError(f"{total} messages went by in one batch: too few to time, raise the size")
    return counted / span
