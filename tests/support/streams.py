"""`make test`: the suite as two pytest sessions at once, to use the time one spends waiting.

Most of the suite's time is waiting (process starts, consumer-group joins, lease and poll
intervals), not CPU, so a second session beside the first nearly halves the wall time. The
second session takes the tests that touch nothing of the checkout's stack: the unit tests and
those that run on a scratch stack of their own (the secure stack, the fault drills' stack);
see :func:`stream_of`. The first takes everything else, and is the only one to use, and
sweep, the checkout's stack.

The first session prints as it goes; the second's output follows when both have ended. The
exit status is the first failure's (pytest's own codes).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.drill_report import RUN_VARIABLE

#: the stream a test runs in when the suite runs as two sessions
PLATFORM, APART = "platform", "apart"
#: fixtures that reach the checkout's stack: a test using one is the platform stream's
CHECKOUT_STACK = frozenset({"stack", "platform", "migrated", "monitoring", "demo_sources"})
#: fixtures of a scratch stack of its own
OWN_STACK = frozenset({"secure_stack", "drill_stack"})
#: pytest's exit code when a session selects no test
NO_TESTS = 5


def stream_of(item: pytest.Item) -> str:
    """``apart`` for a unit test or one that uses a scratch stack and not the checkout's."""
    used = set(item.fixturenames)
    if "unit" in Path(item.path).parts or (used & OWN_STACK and not used & CHECKOUT_STACK):
        return APART
    return PLATFORM


def select(config: pytest.Config, items: list[pytest.Item], stream: str) -> None:
    """Keep only ``stream``'s tests, reporting the others as deselected."""
    kept = [i for i in items if stream_of(i) == stream]
    dropped = [i for i in items if stream_of(i) != stream]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept


def run(args: list[str], root: Path) -> int:
    """Run the suite (pytest ``args``) as the two streams; the exit status."""
    env = {**os.environ, RUN_VARIABLE: uuid.uuid4().hex}
    pytest_bin = str(Path(sys.executable).with_name("pytest"))
    log_path = root / ".stack" / "tests-apart.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log:
        apart = subprocess.Popen(
            [pytest_bin, "--stream", APART, *args], cwd=root, env=env, stdout=log, stderr=log
        )
        try:
            platform = subprocess.call([pytest_bin, "--stream", PLATFORM, *args], cwd=root, env=env)
        finally:
            apart_status = apart.wait()
    print(f"\n===== the second session (unit tests and own-stack tests): {log_path} =====")
    print(log_path.read_text(encoding="utf-8", errors="replace"), flush=True)
    return combined(platform, apart_status)


def combined(*statuses: int) -> int:
    """One exit status for the sessions: the first failure's; 0 when every session passed
    or selected nothing while another passed; 5 when none selected a test."""
    failed = [s for s in statuses if s not in (0, NO_TESTS)]
    if failed:
        return failed[0]
    return 0 if 0 in statuses else NO_TESTS


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:], Path(__file__).resolve().parents[2]))
