"""Other work's share of the CPU, from two readings of the counters."""

from __future__ import annotations

import pytest

from bench.cpu_share import Ledger, others_share


def test_what_the_run_did_not_use_of_the_busy_time_is_other_work():
    start = Ledger(wall=100.0, busy=1000.0, own=50.0)
    end = Ledger(wall=110.0, busy=1015.0, own=60.0)
    # 15 s busy, 10 s of it ours, over 10 s x 2 cores
    assert others_share(start, end, cores=2) == pytest.approx(0.25)


def test_the_share_stays_between_nothing_and_everything():
    start = Ledger(wall=0.0, busy=0.0, own=0.0)
    assert others_share(start, Ledger(wall=10.0, busy=5.0, own=8.0), cores=2) == 0
    assert others_share(start, Ledger(wall=10.0, busy=50.0, own=0.0), cores=2) == 1
    assert others_share(start, start, cores=2) == 0
