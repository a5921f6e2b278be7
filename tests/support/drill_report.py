"""The fault drills' report: one row per drill, written as drills-report.md and .json.

Every drill records its row before it asserts, so a failed drill is in the report too. The
test sessions of one `make test` run (see :mod:`tests.support.streams`) share the files: each
keeps the rows the others wrote in the same run.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import subprocess
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path


@dataclass
class DrillRow:
    """What one drill did and found."""

    name: str
    fault: str
    #: when the fault hit, e.g. "50 % of 100,000 messages" or "412 of 1,000 items scraped"
    hit_at: str
    items_in: int
    rows_out: int
    duplicates: int
    losses: int
    dlq_entries: int
    #: seconds from the fault until the platform was whole again (None: it never was)
    recovery_seconds: float | None
    passed: bool
    #: the checks behind ``passed``, and anything a reader needs to judge the row
    detail: str = ""
    checks: dict[str, bool] = field(default_factory=dict)


#: names the test run whose sessions share the report
RUN_VARIABLE = "SLUICE_TEST_RUN"


class DrillReport:
    """The rows of one drills session and where they are written."""

    COLUMNS = (
        ("drill", "name"),
        ("fault", "fault"),
        ("hit at", "hit_at"),
        ("items in", "items_in"),
        ("rows out", "rows_out"),
        ("duplicates", "duplicates"),
        ("losses", "losses"),
        ("DLQ", "dlq_entries"),
        ("recovery", "recovery_seconds"),
        ("result", "passed"),
    )

    def __init__(self, root: Path, size: int) -> None:
        self.root = root
        self.size = size
        self.rows: list[DrillRow] = []
        self.notes: list[str] = []
        #: the test run this session belongs to (several sessions may share one run)
        self.run = os.environ.get(RUN_VARIABLE) or uuid.uuid4().hex

    def record(self, row: DrillRow) -> DrillRow:
        """Add ``row`` and rewrite the report files (a crashed session keeps what it had)."""
        self.rows = [r for r in self.rows if r.name != row.name] + [row]
        self.write()
        return row

    def note(self, text: str) -> None:
        """A paragraph under the table (e.g. what a fault window can cost)."""
        if text not in self.notes:
            self.notes.append(text)
            self.write()

    @property
    def json_path(self) -> Path:
        """drills-report.json at the checkout's root."""
        return self.root / "drills-report.json"

    @property
    def markdown_path(self) -> Path:
        """drills-report.md at the checkout's root."""
        return self.root / "drills-report.md"

    def write(self) -> None:
        """Write both files from the rows so far, with the rows other sessions of the same
        run wrote (one writer at a time)."""
        with open(self.json_path.with_name(".drills-report.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            rows, notes = self._others()
            rows += self.rows
            notes += [n for n in self.notes if n not in notes]
            header = {**_header(self.root, self.size), "run": self.run}
            document = {**header, "drills": [asdict(r) for r in rows], "notes": notes}
            self.json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            self.markdown_path.write_text(self.markdown(header, rows, notes), encoding="utf-8")

    def _others(self) -> tuple[list[DrillRow], list[str]]:
        """The rows (not this session's drills) and notes the file holds from this run."""
        try:
            document = json.loads(self.json_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return [], []
        if document.get("run") != self.run:
            return [], []
        mine = {r.name for r in self.rows}
        rows = [DrillRow(**r) for r in document["drills"] if r["name"] not in mine]
        return rows, list(document.get("notes", []))

    def markdown(self, header: dict[str, object], rows: list[DrillRow], notes: list[str]) -> str:
        """The table, one row per drill, with each row's detail below it."""
        lines = [
            "# Fault drills",
            "",
            f"{header['date']} · git {header['git_sha']} · {header['machine']} · "
            f"stream size {self.size:,} messages",
            "",
            "| " + " | ".join(title for title, _ in self.COLUMNS) + " |",
            "|" + "---|" * len(self.COLUMNS),
        ]
        for row in rows:
            lines.append("| " + " | ".join(_cell(row, key) for _, key in self.COLUMNS) + " |")
        lines += [
            "",
            "Items in: messages published (processor drills) or items scraped (crawl drills). "
            "Rows out: rows stored. Losses: reference rows or scraped items missing at the end. "
            "Duplicates: rows stored more often than in the reference run (processor drills); "
            "items delivered to Kafka more than once, which the stores' keys absorb (crawl "
            "drills). Recovery: from the fault until the stream or crawl moved on again.",
            "",
            "## Details",
            "",
        ]
        for row in rows:
            failed = [name for name, ok in row.checks.items() if not ok]
            checks = f" Failed checks: {', '.join(failed)}." if failed else ""
            lines.append(f"- **{row.name}**: {row.detail}{checks}")
        if notes:
            lines += ["", "## Notes", "", *(f"- {note}" for note in notes)]
        return "\n".join(lines) + "\n"


def _cell(row: DrillRow, key: str) -> str:
    value = getattr(row, key)
    if key == "passed":
        return "pass" if value else "**FAIL**"
    if key == "recovery_seconds":
        return "never" if value is None else f"{value:.1f} s"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")


def _header(root: Path, size: int) -> dict[str, object]:
    sha = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git_sha": sha or "unknown",
        "machine": f"{platform.machine()}, {os.cpu_count() or 1} cores",
        "size": size,
    }
