"""How the PostgreSQL client programs are addressed, and the names of scratch databases."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict

from sluice.backup.mongo import scratch_name as mongo_scratch_name
from sluice.backup.postgres import client_target, database_name, redact, scratch_name

URL = "postgresql://sluice:s3cret@127.0.0.1:5432/sluice"


def test_the_password_goes_in_the_environment_never_on_the_command_line():
    target, env = client_target(URL)

    assert "s3cret" not in target
    assert env["PGPASSWORD"] == "s3cret"
    assert conninfo_to_dict(target)["dbname"] == "sluice"
    assert conninfo_to_dict(target)["application_name"] == "sluice-backup"


def test_messages_show_where_without_the_password():
    assert redact(URL) == "sluice@127.0.0.1:5432/sluice"
    assert database_name(URL) == "sluice"


def test_scratch_names_are_fresh_and_fit_the_name_limits():
    base = "a_database_name_long_enough_to_need_cutting_short_somewhere"

    first, second = scratch_name(base), scratch_name(base)

    assert first != second
    assert len(first) <= 63
    assert first.startswith("a_database_name") and "_restorecheck_" in first
    assert len(mongo_scratch_name(base)) <= 63
