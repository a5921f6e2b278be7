"""Progress output of long setup steps, and their failure messages."""

from __future__ import annotations

import io
import sys

import pytest

from sluice.stack.errors import StackError
from sluice.stack.progress import Progress, tail


def test_a_slow_step_prints_heartbeats_with_its_last_output(tmp_path):
    out = io.StringIO()
    progress = Progress(out, heartbeat=0.2)
    script = "import time\nprint('compiling module 1', flush=True)\ntime.sleep(0.7)\n"
    progress.run(
        "ferretdb", "building", [sys.executable, "-c", script], tmp_path / "b.log", fix="-"
    )
    lines = out.getvalue().splitlines()
    assert "ferretdb" in lines[0] and "building" in lines[0]
    heartbeats = [li for li in lines if "still building" in li]
    assert len(heartbeats) >= 2
    assert heartbeats[-1].endswith("compiling module 1")
    assert "building: done in" in lines[-1]


def test_a_failed_step_raises_with_the_log_tail_and_the_fix(tmp_path):
    script = "import sys\nfor i in range(30): print('line', i)\nsys.exit(4)\n"
    with pytest.raises(StackError) as caught:
        Progress(io.StringIO()).run(
            "kafka",
            "resolving jars",
            [sys.executable, "-c", script],
            tmp_path / "m.log",
            fix="check Maven",
        )
    err = caught.value
    assert err.service == "kafka"
    assert "resolving jars failed (exit 4)" in err.cause
    assert "line 29" in err.cause and "line 10" not in err.cause
    assert err.fix == "check Maven"


def test_a_missing_tool_is_a_stack_error(tmp_path):
    with pytest.raises(StackError, match="is not installed"):
        Progress(io.StringIO()).run("x", "step", ["/no/such/tool"], tmp_path / "x.log", fix="-")


def test_tail_skips_blank_lines_and_tolerates_a_missing_file(tmp_path):
    log = tmp_path / "a.log"
    log.write_text("one\n\ntwo\nthree\n\n")
    assert tail(log, 2) == ["two", "three"]
    assert tail(tmp_path / "missing.log", 5) == []
