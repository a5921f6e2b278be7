"""What the results were measured on: the machine, how busy it was, and the code's revision."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Machine:
    """The cores, the CPU model and the 1-minute load average at one moment."""

    cores: int
    cpu_model: str
    load: float

    @classmethod
    def now(cls) -> Machine:
        """This machine, with its load average now."""
        return cls(os.cpu_count() or 1, cpu_model(), os.getloadavg()[0])


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (the first processor's), or what the platform reports."""
    try:
        for line in cpuinfo.read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass  # not Linux: the platform's own answer below
    return platform.processor() or platform.machine() or "unknown"


def revision(project_dir: Path) -> str:
    """The checkout's short commit, marked when the work tree has uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=project_dir, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    sha = git("rev-parse", "--short=12", "HEAD")
    # RESULTS.md itself is rewritten by every run: its change says nothing about the code.
    changed = [
        line for line in git("status", "--porcelain").splitlines()
        if not line.endswith("bench/RESULTS.md")
    ]  # fmt: skip
    return f"{sha} (with uncommitted changes)" if changed else sha
