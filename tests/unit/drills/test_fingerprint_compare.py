"""The drills' comparison with the reference run: each kind of damage is counted, so a drill
that loses, doubles or changes a row cannot pass."""

from __future__ import annotations

from tests.support.drill_data import Fingerprint, Stream, compare

REFERENCE = Fingerprint(
    tables={"products": ["a", "b"], "product_prices": ["a1", "a2", "b1"], "quotes": ["q"]},
    dead_letters=["bad-1", "bad-2"],
)


def faulted(**tables: list[str]) -> Fingerprint:
    return Fingerprint({**REFERENCE.tables, **tables}, list(REFERENCE.dead_letters))


def test_the_same_rows_compare_identical():
    assert compare(REFERENCE, faulted()).identical


def test_a_missing_history_row_is_a_loss():
    result = compare(REFERENCE, faulted(product_prices=["a1", "b1"]))
    assert (result.losses, result.duplicates, result.identical) == (1, 0, False)


def test_a_row_stored_twice_is_a_duplicate():
    result = compare(REFERENCE, faulted(product_prices=["a1", "a2", "a2", "b1"]))
    assert (result.losses, result.duplicates, result.identical) == (0, 1, False)


def test_a_changed_row_is_a_mismatch_and_a_loss():
    result = compare(REFERENCE, faulted(quotes=["q-changed"]))
    assert (result.losses, result.mismatches, result.identical) == (1, 1, False)


def test_a_dead_letter_delivered_twice_is_the_same_dead_letters():
    observed = faulted()
    observed.dead_letters.append("bad-1")
    assert compare(REFERENCE, observed).dlq_equal


def test_a_missing_dead_letter_is_not_the_same_dead_letters():
    observed = Fingerprint(dict(REFERENCE.tables), ["bad-1"])
    assert not compare(REFERENCE, observed).identical


def test_a_stream_is_the_same_input_under_every_tag():
    first, second = Stream(15, 500), Stream(15, 500)
    assert first.tag != second.tag
    untagged = [
        [
            value.replace(s.tag.encode(), b"T").replace(s.ticker_prefix.encode(), b"T")
            for *_, value in s.messages()
        ]
        for s in (first, second)
    ]
    assert untagged[0] == untagged[1]
