"""The fault drills: a scratch stack of their own to crash, the stream size, and the report.

`make test` runs every drill at the reduced size (``--drill-size``, default 5,000 messages);
`make drills` runs them at full size (100,000). Either way the rows land in
drills-report.md and drills-report.json at the checkout's root.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sluice.settings import Settings
from tests.support.drill_report import DrillReport
from tests.support.drill_stack import DrillStack
from tests.support.scratch_stack import ScratchStack


@pytest.fixture(scope="session")
def drill_size(request: pytest.FixtureRequest) -> int:
    """Messages in each drill's stream."""
    return request.config.getoption("--drill-size")


@pytest.fixture(scope="session")
def drill_report(settings: Settings, drill_size: int) -> DrillReport:
    """The report every drill records its row in (with the weekly workflow's result of the
    API property tests with fresh seeds, when it passes one in SLUICE_FUZZ_RESULT)."""
    report = DrillReport(settings.project_dir, drill_size)
    if fuzz := os.environ.get("SLUICE_FUZZ_RESULT"):
        report.note(
            f"API property tests with fresh seeds, negative data and stateful links: {fuzz}"
        )
    return report


@pytest.fixture(scope="session")
def drill_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DrillStack]:
    """A stack of the drills' own on free ports, with the normalizer and the archiver running
    under its supervisor, so crashing its services leaves the suite's stack alone."""
    # Its object store's ports and their gRPC twins (10000 up) stay below Linux's ephemeral
    # range (32768 up), where any client socket of the suite may hold one; the secure stack
    # takes the blocks from 21000 (objects) and 22000 (metrics).
    scratch = ScratchStack.on_free_ports(tmp_path_factory.mktemp("drill-stack"), block_start=21500)
    try:
        for step in (("stack", "up"), ("migrate",), ("up", "normalizer", "archiver")):
            result = scratch.cli(*step, timeout=600)
            if result.returncode != 0:
                pytest.fail(
                    f"`sluice {' '.join(step)}` failed on the drill stack:\n"
                    f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}",
                    pytrace=False,
                )
        yield DrillStack(scratch)
    finally:
        reset = scratch.cli("stack", "reset", "--yes", timeout=300)
        assert reset.returncode == 0, f"the drill stack was not reset:\n{reset.stderr}"
