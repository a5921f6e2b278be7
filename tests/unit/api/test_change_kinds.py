"""The change feed's kinds: the schema's list and the SQL tests name the same kinds."""

from api.schemas import CHANGE_KINDS
from api.services.changes import KIND_TESTS


def test_every_documented_kind_has_its_sql_test_and_no_other():
    assert sorted(KIND_TESTS) == sorted(CHANGE_KINDS)
