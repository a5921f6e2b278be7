"""Progress lines for long setup steps, so a cold install never sits in silence."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from sluice.stack.errors import StackError


class Progress:
    """Writes ``[service] message`` lines with the elapsed time of the whole run."""

    def __init__(self, stream: TextIO | None = None, heartbeat: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.heartbeat = heartbeat
        self.started = time.monotonic()

    def say(self, service: str, message: str) -> None:
        """Print one progress line."""
        elapsed = time.monotonic() - self.started
        self.stream.write(f"[{elapsed:6.1f}s] {service:<12} {message}\n")
        self.stream.flush()

    def run(
        self,
        service: str,
        step: str,
        argv: Sequence[str],
        log_file: Path,
        fix: str,
        expect: str = "",
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """Run a long command, logging its output to ``log_file`` and printing a heartbeat.

        ``expect`` (e.g. "first run only, ~2 min") is shown once, on the first line.
        A non-zero exit raises :class:`StackError` quoting the last lines of the log.
        """
        log_file.parent.mkdir(parents=True, exist_ok=True)
        note = f"{expect}; " if expect else ""
        self.say(service, f"{step} ({note}output in {log_file})")
        begun = time.monotonic()
        with log_file.open("w", encoding="utf-8") as log:
            try:
                proc = subprocess.Popen(
                    list(argv), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
                )
            except FileNotFoundError as exc:
                raise StackError(
                    service, f"{step} failed: {argv[0]} is not installed", fix
                ) from exc
            while True:
                try:
                    code = proc.wait(timeout=self.heartbeat)
                    break
                except subprocess.TimeoutExpired:
                    last = tail(log_file, 1)
                    hint = f": {last[-1][:100]}" if last else ""
                    self.say(service, f"  still {step} ({time.monotonic() - begun:.0f}s){hint}")
        if code != 0:
            lines = "\n    ".join(tail(log_file, 15))
            raise StackError(service, f"{step} failed (exit {code}):\n    {lines}", fix)
        self.say(service, f"{step}: done in {time.monotonic() - begun:.0f}s")


def tail(path: Path, count: int) -> list[str]:
    """The last ``count`` non-empty lines of a text file (empty if it does not exist)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            text = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-count:]
