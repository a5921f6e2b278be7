"""The change feed's kinds and positions (pure logic; the feed itself is tested on
PostgreSQL in tests/integration/api/test_changes.py)."""

from sluice import changes


def test_every_kind_has_its_sql_test_and_no_other():
    assert sorted(changes.KIND_TESTS) == sorted(changes.KINDS)


def test_a_position_past_the_transaction_range_is_not_valid():
    assert (changes.valid((changes.LAST_TXID, 0)), changes.valid((changes.LAST_TXID + 1, 0))) == (
        True,
        False,
    )
