"""How much of the machine's CPU other work took while the benchmarks ran.

The load average only says how busy the machine was before a run; other work that starts
during it (another checkout's tests, a build) lowers the figures just as much. A
:class:`Ledger` reads the machine's busy CPU time and the CPU time of the run's own
processes — this process and everything it waited for, and the stack's services under their
supervisor — at the start and the end; the rest is other work.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Ledger:
    """CPU seconds at one moment: the machine's busy time and the run's own."""

    wall: float
    busy: float
    own: float

    @classmethod
    def now(cls, stack_dir: Path) -> Ledger:
        """Read the counters now; ``stack_dir`` holds the stack supervisor's pid file."""
        times = psutil.cpu_times()
        busy = sum(times) - times.idle - getattr(times, "iowait", 0.0)
        mine = os.times()
        own = mine.user + mine.system + mine.children_user + mine.children_system
        return cls(time.monotonic(), busy, own + stack_cpu(stack_dir))


def stack_cpu(stack_dir: Path) -> float:
    """CPU seconds of the stack's supervisor and every process under it (and of the children
    they reaped, such as PostgreSQL's connection backends)."""
    try:
        root = psutil.Process(int((stack_dir / "supervisord.pid").read_text().strip()))
        processes = [root, *root.children(recursive=True)]
    except (OSError, ValueError, psutil.Error) as exc:
        raise RuntimeError(f"cannot read the stack's processes under {stack_dir}: {exc}") from exc
    total = 0.0
    for process in processes:
        try:
            t = process.cpu_times()
        except psutil.NoSuchProcess:
            continue  # ended since the listing: its parent has its time now
        total += t.user + t.system + t.children_user + t.children_system
    return total


def others_share(start: Ledger, end: Ledger, cores: int) -> float:
    """The share (0-1) of all cores' time between the two readings used by other work."""
    capacity = (end.wall - start.wall) * cores
    if capacity <= 0:
        return 0.0
    others = (end.busy - start.busy) - (end.own - start.own)
    return min(1.0, max(0.0, others / capacity))
