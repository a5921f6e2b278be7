"""PostgreSQL of the native stack: transactions and the three roles."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import errors, sql

from sluice.storage.postgres import connect

pytestmark = pytest.mark.postgres


@pytest.fixture
def table(stack, settings):
    name = f"test_{uuid.uuid4().hex[:8]}"
    with connect(settings.postgres_url, autocommit=True) as owner:
        owner.execute(
            sql.SQL("CREATE TABLE {} (id serial PRIMARY KEY, sku text UNIQUE NOT NULL)").format(
                sql.Identifier(name)
            )
        )
    yield sql.Identifier(name)
    with connect(settings.postgres_url, autocommit=True) as owner:
        owner.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))


def count(url: str, table) -> int:
    with connect(url) as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]


def test_a_rolled_back_transaction_leaves_nothing_and_a_commit_is_visible(settings, table):
    insert = sql.SQL("INSERT INTO {} (sku) VALUES (%s)").format(table)
    with connect(settings.postgres_writer_url) as writer:
        writer.execute(insert, ("a",))
        writer.execute(insert, ("b",))
        writer.rollback()
        assert count(settings.postgres_reader_url, table) == 0
        writer.execute(insert, ("a",))
        # Another session sees nothing before the commit.
        assert count(settings.postgres_reader_url, table) == 0
        writer.commit()
    assert count(settings.postgres_reader_url, table) == 1


def test_a_failed_statement_aborts_the_whole_transaction(settings, table):
    insert = sql.SQL("INSERT INTO {} (sku) VALUES (%s)").format(table)
    with (
        connect(settings.postgres_writer_url) as writer,
        pytest.raises(errors.UniqueViolation),
        writer.transaction(),
    ):
        writer.execute(insert, ("x",))
        writer.execute(insert, ("x",))
    assert count(settings.postgres_reader_url, table) == 0


def test_reader_is_read_only(settings, table):
    with connect(settings.postgres_reader_url) as reader:
        assert reader.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone() == (0,)
        with pytest.raises((errors.ReadOnlySqlTransaction, errors.InsufficientPrivilege)):
            reader.execute(sql.SQL("INSERT INTO {} (sku) VALUES ('r')").format(table))


def test_reader_cannot_write_even_outside_a_read_only_transaction(settings, table):
    with connect(settings.postgres_reader_url) as reader:
        reader.execute("SET default_transaction_read_only = off")
        reader.commit()
        with pytest.raises(errors.InsufficientPrivilege):
            reader.execute(sql.SQL("INSERT INTO {} (sku) VALUES ('r')").format(table))


def test_writer_writes_rows_but_cannot_change_the_schema(settings, table):
    with connect(settings.postgres_writer_url) as writer:
        writer.execute(sql.SQL("INSERT INTO {} (sku) VALUES ('w')").format(table))
        writer.execute(sql.SQL("UPDATE {} SET sku = 'w2'").format(table))
        writer.commit()
        with pytest.raises(errors.InsufficientPrivilege):
            writer.execute("CREATE TABLE writer_made (id int)")


def test_roles_authenticate_with_their_passwords(stack, settings):
    parts = urlsplit(settings.postgres_writer_url)
    netloc = f"{parts.username}:not-the-password@{parts.hostname}:{parts.port or 5432}"
    wrong = urlunsplit(parts._replace(netloc=netloc))
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(wrong)
