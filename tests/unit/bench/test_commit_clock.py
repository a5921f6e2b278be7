"""Throughput from commit times: first commit to last, first batch left out."""

from __future__ import annotations

import pytest

from bench.commit_clock import CommitClock, combined_rate


def clock(*commits: tuple[int, float]) -> CommitClock:
    made = CommitClock()
    for consumed, at in commits:
        made.committed(consumed, now=at)
    return made


def test_one_consumer_counts_what_it_committed_after_its_first_batch():
    assert combined_rate([clock((500, 10.0), (1000, 11.0), (2000, 12.0))]) == pytest.approx(750)


def test_two_consumers_share_one_span_from_the_earliest_first_commit():
    first = clock((500, 10.0), (1500, 12.0))
    second = clock((500, 10.5), (1500, 14.0))
    # 3,000 committed, less the earliest first batch, over 10.0 -> 14.0
    assert combined_rate([first, second]) == pytest.approx(2500 / 4)


def test_a_consumer_that_committed_nothing_is_left_out():
    assert combined_rate([clock((500, 1.0), (1500, 2.0)), CommitClock()]) == pytest.approx(1000)


def test_nothing_committed_is_an_error():
    with pytest.raises(ValueError, match="no consumer committed"):
        combined_rate([CommitClock()])


def test_a_backlog_in_one_batch_is_too_small_to_time():
    with pytest.raises(ValueError, match="too few to time"):
        combined_rate([clock((500, 3.0))])


def test_a_clock_survives_its_json_form():
    original = clock((500, 1.5), (900, 2.5))
    assert CommitClock.from_json(original.to_json()) == original
