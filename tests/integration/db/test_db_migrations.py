"""The migration runner and the MongoDB indexes on the real PostgreSQL and FerretDB.

Runner behaviour is tested with migrations of our own in a temporary folder, applied to a
scratch schema (``test_<random>``) that each test creates and drops. The project's own
``sql/`` migrations are applied to a scratch schema (from nothing) and to the real database
(where a second run must find nothing to do).
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import errors, sql

from sluice.cli.migrate import migrate as migrate_command
from sluice.db.migrations import (
    LOCK_KEY,
    MigrationError,
    default_sql_dir,
    discover,
    migrate,
    plan,
)
from sluice.db.mongo_indexes import (
    RAW_ITEMS_INDEXES,
    MongoIndexError,
    ensure_indexes,
    missing_indexes,
)
from sluice.storage.mongo import client as mongo_client
from sluice.storage.postgres import connect

pytestmark = pytest.mark.postgres

PROJECT_TABLES = {
    "products",
    "product_prices",
    "quotes",
    "crawl_runs",
    "rejected_items",
    "dq_results",
    "api_keys",
    "backup_runs",
    "sources",
    "deadline_misses",
    "webhooks",
    "webhook_dead_letters",
    "schema_migrations",
}


# -- fixtures and helpers ----------------------------------------------------------------------
@pytest.fixture
def schema(stack, settings):
    """A fresh, empty schema owned by the owner role; dropped with everything in it."""
    name = f"test_{uuid.uuid4().hex[:10]}"
    with connect(settings.postgres_url, autocommit=True) as owner:
        owner.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    yield name
    with connect(settings.postgres_url, autocommit=True) as owner:
        owner.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def sql_dir(tmp_path) -> Path:
    folder = tmp_path / "sql"
    folder.mkdir()
    return folder


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def three_migrations(folder: Path) -> None:
    """Each depends on the one before, so applying them out of order would fail."""
    write(folder, "0001_create_a.sql", "CREATE TABLE a (id int PRIMARY KEY);\n")
    write(
        folder,
        "0002_create_b.sql",
        "CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a (id));\n"
        "INSERT INTO a VALUES (1);\n",
    )
    write(
        folder, "0003_fill_b.sql", "-- 100% of b's rows point at a\nINSERT INTO b VALUES (1, 1);\n"
    )


def owner_query(settings, schema: str, query: str, params=None) -> list[tuple]:
    with connect(settings.postgres_url, autocommit=True) as owner:
        owner.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        return owner.execute(query, params).fetchall()


def history(settings, schema: str) -> list[tuple]:
    return owner_query(
        settings, schema, "SELECT version, name, checksum, applied_at FROM schema_migrations"
    )


def tables(settings, schema: str) -> set[str]:
    rows = owner_query(
        settings, schema, "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
    )
    return {row[0] for row in rows}


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


# -- the runner --------------------------------------------------------------------------------
def test_applies_in_order_and_records_checksums(settings, schema, sql_dir):
    three_migrations(sql_dir)
    report = migrate(settings, sql_dir=sql_dir, schema=schema)

    assert [m.version for m in report.applied] == [1, 2, 3]
    assert (report.already_applied, report.current_version, report.pending) == (0, 3, [])
    recorded = history(settings, schema)
    expected = [(m.version, m.name, m.checksum) for m in discover(sql_dir)]
    assert [row[:3] for row in recorded] == expected
    assert all(isinstance(row[3], datetime) for row in recorded)
    assert owner_query(settings, schema, "SELECT * FROM b") == [(1, 1)]


def test_a_second_run_applies_nothing_and_a_new_file_only_itself(settings, schema, sql_dir):
    three_migrations(sql_dir)
    migrate(settings, sql_dir=sql_dir, schema=schema)
    before = history(settings, schema)

    again = migrate(settings, sql_dir=sql_dir, schema=schema)
    assert (again.applied, again.already_applied, again.current_version) == ([], 3, 3)
    assert history(settings, schema) == before

    write(sql_dir, "0004_more.sql", "INSERT INTO a VALUES (2);\n")
    later = migrate(settings, sql_dir=sql_dir, schema=schema)
    assert [m.filename for m in later.applied] == ["0004_more.sql"]
    assert later.already_applied == 3
    assert owner_query(settings, schema, "SELECT count(*) FROM a") == [(2,)]


def test_an_edited_applied_migration_is_refused_before_anything_runs(settings, schema, sql_dir):
    three_migrations(sql_dir)
    migrate(settings, sql_dir=sql_dir, schema=schema)
    write(sql_dir, "0002_create_b.sql", "CREATE TABLE b (id bigint PRIMARY KEY);\n")
    write(sql_dir, "0004_more.sql", "CREATE TABLE c (id int);\n")

    with pytest.raises(MigrationError) as error:
        migrate(settings, sql_dir=sql_dir, schema=schema)
    assert "version 0002 (0002_create_b.sql) changed after it was applied" in str(error.value)
    with (
        connect(settings.postgres_url) as conn,
        pytest.raises(MigrationError, match="0002_create_b"),
    ):
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        plan(conn, discover(sql_dir), schema=schema)
    assert "c" not in tables(settings, schema)
    assert len(history(settings, schema)) == 3


def test_a_disappeared_applied_migration_is_refused(settings, schema, sql_dir):
    three_migrations(sql_dir)
    migrate(settings, sql_dir=sql_dir, schema=schema)
    (sql_dir / "0003_fill_b.sql").unlink()
    with pytest.raises(MigrationError, match=r"version 0003 \(0003_fill_b\.sql\) was applied"):
        migrate(settings, sql_dir=sql_dir, schema=schema)


def test_a_failing_migration_is_rolled_back_entirely_and_named(settings, schema, sql_dir):
    write(sql_dir, "0001_ok.sql", "CREATE TABLE a (id int);\n")
    write(
        sql_dir,
        "0002_broken.sql",
        "CREATE TABLE half_done (id int);\nINSERT INTO half_done VALUES (1);\n"
        "SELECT * FROM no_such_table;\n",
    )
    with pytest.raises(MigrationError) as error:
        migrate(settings, sql_dir=sql_dir, schema=schema)

    message = str(error.value)
    assert "0002_broken.sql line 3 failed and was rolled back" in message
    assert 'relation "no_such_table" does not exist' in message
    assert [m.filename for m in error.value.applied] == ["0001_ok.sql"]
    assert "half_done" not in tables(settings, schema)
    assert [row[0] for row in history(settings, schema)] == [1]

    write(sql_dir, "0002_broken.sql", "CREATE TABLE half_done (id int);\n")
    fixed = migrate(settings, sql_dir=sql_dir, schema=schema)
    assert [m.version for m in fixed.applied] == [2]


def test_concurrent_runners_apply_each_migration_exactly_once(settings, schema, sql_dir):
    write(sql_dir, "0001_log.sql", "CREATE TABLE runs (migration int);\n")
    write(sql_dir, "0002_slow.sql", "SELECT pg_sleep(0.5);\nINSERT INTO runs VALUES (2);\n")
    write(sql_dir, "0003_last.sql", "INSERT INTO runs VALUES (3);\n")
    start = threading.Barrier(4)
    reports, failures = [], []

    def run() -> None:
        start.wait()
        try:
            reports.append(migrate(settings, sql_dir=sql_dir, schema=schema))
        except Exception as exc:  # reported below, with every thread's outcome
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sorted(len(r.applied) for r in reports) == [0, 0, 0, 3]
    assert all(len(r.applied) + r.already_applied == 3 for r in reports)
    assert owner_query(settings, schema, "SELECT migration FROM runs ORDER BY 1") == [(2,), (3,)]
    assert [row[0] for row in history(settings, schema)] == [1, 2, 3]


def test_a_runner_gives_up_when_another_holds_the_lock_too_long(settings, schema, sql_dir):
    three_migrations(sql_dir)
    with connect(settings.postgres_url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        with pytest.raises(MigrationError, match="another migration runner held the lock"):
            migrate(settings, sql_dir=sql_dir, schema=schema, lock_timeout=0.3)
    assert tables(settings, schema) == set()


def test_a_dry_run_changes_nothing(settings, schema, sql_dir):
    three_migrations(sql_dir)
    report = migrate(settings, sql_dir=sql_dir, schema=schema, dry_run=True)
    assert report.dry_run
    assert [m.version for m in report.pending] == [1, 2, 3]
    assert (report.applied, report.already_applied) == ([], 0)
    assert tables(settings, schema) == set()  # not even schema_migrations

    migrate(settings, sql_dir=sql_dir, schema=schema)
    write(sql_dir, "0004_more.sql", "CREATE TABLE c (id int);\n")
    later = migrate(settings, sql_dir=sql_dir, schema=schema, dry_run=True)
    assert [m.filename for m in later.pending] == ["0004_more.sql"]
    assert (later.already_applied, later.current_version) == (3, 3)
    assert "c" not in tables(settings, schema)


def test_a_missing_schema_and_a_wrong_password_are_named(settings, stack, sql_dir):
    three_migrations(sql_dir)
    with pytest.raises(MigrationError, match="schema 'test_no_such_schema' does not exist"):
        migrate(settings, sql_dir=sql_dir, schema="test_no_such_schema")

    wrong = dataclasses.replace(
        settings, postgres_url=with_password(settings.postgres_url, "not-the-password")
    )
    with pytest.raises(MigrationError, match="cannot connect to PostgreSQL at sluice@") as error:
        migrate(wrong, sql_dir=sql_dir)
    assert "password authentication failed" in str(error.value)
    assert "not-the-password" not in str(error.value)


def test_only_the_owner_may_change_the_history(settings, schema, sql_dir):
    # `sluice stack up` grants the writer DML on every table, so every run revokes it again.
    writer = urlsplit(settings.postgres_writer_url).username
    three_migrations(sql_dir)
    migrate(settings, sql_dir=sql_dir, schema=schema)
    table = sql.Identifier(schema, "schema_migrations")
    can_write = (
        "SELECT has_table_privilege(%s, %s, 'INSERT'), has_table_privilege(%s, %s, 'SELECT')"
    )
    regclass = f"{schema}.schema_migrations"
    with connect(settings.postgres_url, autocommit=True) as owner:
        owner.execute(
            sql.SQL("GRANT SELECT, INSERT, UPDATE ON {} TO {}").format(
                table, sql.Identifier(writer)
            )
        )
        assert owner.execute(can_write, (writer, regclass, writer, regclass)).fetchone() == (
            True,
            True,
        )
        migrate(settings, sql_dir=sql_dir, schema=schema)
        assert owner.execute(can_write, (writer, regclass, writer, regclass)).fetchone() == (
            False,
            True,
        )


# -- the project's migrations ------------------------------------------------------------------
def test_the_project_migrations_apply_to_an_empty_schema(settings, schema):
    report = migrate(settings, schema=schema)
    assert [m.version for m in report.applied] == [
        m.version for m in discover(default_sql_dir(settings))
    ]
    assert tables(settings, schema) == PROJECT_TABLES

    now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    with connect(settings.postgres_url) as conn:
        conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema)))
        insert = (
            "INSERT INTO products (source, external_id, name, price, currency, availability, "
            "url, first_seen_at, last_seen_at) VALUES ('shop', %s, 'Widget', %s, 'USD', %s, "
            "'http://shop/w', %s, %s) RETURNING id"
        )
        product_id = conn.execute(insert, ("w1", "9.99", "in_stock", now, now)).fetchone()[0]
        for bad_price, availability in (("0", "in_stock"), ("1", "sold")):
            with pytest.raises(errors.CheckViolation), conn.transaction():
                conn.execute(insert, ("w2", bad_price, availability, now, now))
        with pytest.raises(errors.UniqueViolation), conn.transaction():
            conn.execute(insert, ("w1", "1", "in_stock", now, now))

        price = (
            "INSERT INTO product_prices (product_id, price, currency, availability, "
            "observed_at) VALUES (%s, 9.99, 'USD', 'in_stock', %s) "
            "ON CONFLICT (product_id, observed_at) DO NOTHING"
        )
        assert conn.execute(price, (product_id, now)).rowcount == 1
        assert conn.execute(price, (product_id, now)).rowcount == 0

        quote = (
            "INSERT INTO quotes (symbol, price, currency, as_of, trade_date, source, fetched_at) "
            "VALUES ('ACME', %s, 'USD', %s, %s, 'market', now()) "
            "ON CONFLICT (symbol, as_of) DO UPDATE SET price = EXCLUDED.price"
        )
        conn.execute(quote, ("10", now, now.date()))
        conn.execute(quote, ("11", now, now.date()))
        assert conn.execute("SELECT price FROM quotes").fetchall() == [(Decimal("11.0000"),)]

        found = conn.execute("SELECT id FROM products WHERE name ILIKE '%idge%'").fetchall()
        assert found == [(product_id,)]
        conn.execute("DELETE FROM products")
        assert conn.execute("SELECT count(*) FROM product_prices").fetchone() == (0,)
        conn.rollback()


@pytest.fixture(scope="module")
def migrated(stack, settings):
    """The real database, migrated (as `sluice migrate` would)."""
    return migrate(settings)


def test_the_project_migrations_are_idempotent_on_the_real_database(settings, migrated):
    expected = discover(default_sql_dir(settings))
    assert migrated.current_version == len(expected)
    again = migrate(settings)
    assert (again.applied, again.already_applied) == ([], len(expected))
    assert tables(settings, "public") >= PROJECT_TABLES
    assert migrate(settings, dry_run=True).pending == []


def test_the_writer_writes_rows_and_the_reader_only_reads(settings, migrated):
    writer_role = urlsplit(settings.postgres_writer_url).username
    reader_role = urlsplit(settings.postgres_reader_url).username
    now = datetime.now(UTC)
    source = f"test-{uuid.uuid4().hex[:8]}"
    with connect(settings.postgres_writer_url) as writer:
        product_id = writer.execute(
            "INSERT INTO products (source, external_id, name, price, currency, url, "
            "first_seen_at, last_seen_at) VALUES (%s, 'w1', 'Widget', 5, 'EUR', 'http://x/', "
            "%s, %s) RETURNING id",
            (source, now, now),
        ).fetchone()[0]
        writer.execute(
            "UPDATE products SET price = 6, updated_at = now() WHERE id = %s", (product_id,)
        )
        writer.execute(
            "INSERT INTO product_prices (product_id, price, currency, availability, observed_at) "
            "VALUES (%s, 6, 'EUR', 'unknown', %s)",
            (product_id, now),
        )
        payload = b"\xff\xfe not utf-8"
        writer.execute(
            'INSERT INTO rejected_items (topic, partition, "offset", stage, reason, payload) '
            "VALUES (%s, 0, 1, 'normalize', 'invalid/json', %s)",
            (f"sluice.test.{source}", payload),
        )
        assert writer.execute(
            "SELECT payload FROM rejected_items WHERE topic = %s", (f"sluice.test.{source}",)
        ).fetchone() == (payload,)
        price = writer.execute("SELECT price FROM products WHERE id = %s", (product_id,))
        assert price.fetchone() == (Decimal("6.0000"),)
        with pytest.raises(errors.InsufficientPrivilege):
            writer.execute("CREATE TABLE writer_made (id int)")
        writer.rollback()

    with connect(settings.postgres_reader_url) as reader:
        assert reader.execute(
            "SELECT count(*) FROM products WHERE source = %s", (source,)
        ).fetchone() == (0,)
        reader.execute("SELECT max(version) FROM schema_migrations").fetchone()
        with pytest.raises((errors.ReadOnlySqlTransaction, errors.InsufficientPrivilege)):
            reader.execute("DELETE FROM products WHERE source = %s", (source,))

    with connect(settings.postgres_url, autocommit=True) as owner:
        for table in PROJECT_TABLES - {"schema_migrations"}:
            granted = owner.execute(
                "SELECT has_table_privilege(%s, %s, 'INSERT'), has_table_privilege(%s, %s, "
                "'UPDATE'), has_table_privilege(%s, %s, 'SELECT'), "
                "has_table_privilege(%s, %s, 'INSERT')",
                (writer_role, table, writer_role, table, reader_role, table, reader_role, table),
            ).fetchone()
            assert granted == (True, True, True, False), table


# -- MongoDB -----------------------------------------------------------------------------------
@pytest.fixture
def mongo_db(stack, settings):
    conn = mongo_client(settings.mongo_url)
    db = conn[f"sluice_test_{uuid.uuid4().hex[:8]}"]
    yield db
    conn.drop_database(db.name)
    conn.close()


@pytest.mark.mongo
def test_mongo_indexes_are_created_once(mongo_db):
    assert missing_indexes(mongo_db) == list(RAW_ITEMS_INDEXES)
    assert ensure_indexes(mongo_db) == [spec.name for spec in RAW_ITEMS_INDEXES]
    info = mongo_db["raw_items"].index_information()
    for spec in RAW_ITEMS_INDEXES:
        assert tuple((f, int(d)) for f, d in info[spec.name]["key"]) == spec.keys

    assert ensure_indexes(mongo_db) == []
    assert mongo_db["raw_items"].index_information() == info
    assert missing_indexes(mongo_db) == []


@pytest.mark.mongo
def test_a_mongo_index_name_with_other_keys_is_refused(mongo_db):
    mongo_db["raw_items"].create_index([("crawl_id", -1)], name="crawl_id")
    with pytest.raises(MongoIndexError, match=r"raw_items\.crawl_id exists with keys"):
        ensure_indexes(mongo_db)


@pytest.mark.mongo
def test_mongo_indexes_on_the_real_database(stack, settings):
    with mongo_client(settings.mongo_url) as conn:
        db = conn.get_default_database()
        ensure_indexes(db)
        assert missing_indexes(db) == []
        assert ensure_indexes(db) == []


# -- the command -------------------------------------------------------------------------------
def invoke(settings, *args: str):
    return CliRunner().invoke(migrate_command, list(args), obj=settings)


@pytest.mark.mongo
def test_the_command_dry_run_prints_the_plan_and_then_applies(settings, migrated, mongo_db):
    parts = urlsplit(settings.mongo_url)
    scratch = dataclasses.replace(
        settings, mongo_url=urlunsplit(parts._replace(path=f"/{mongo_db.name}"))
    )
    dry = invoke(scratch, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "postgres: 0 pending" in dry.output
    for spec in RAW_ITEMS_INDEXES:
        assert f"mongo: would create {spec.describe()}" in dry.output
    assert "raw_items" not in mongo_db.list_collection_names()

    run = invoke(scratch)
    assert run.exit_code == 0, run.output
    assert f"postgres: 0 applied, {migrated.current_version} already applied" in run.output
    for spec in RAW_ITEMS_INDEXES:
        assert f"mongo: created {spec.describe()}" in run.output
    assert missing_indexes(mongo_db) == []
    assert "mongo: present" in invoke(scratch).output


def test_the_command_fails_with_a_message_not_a_traceback(settings, stack):
    wrong = dataclasses.replace(
        settings, postgres_url=with_password(settings.postgres_url, "not-the-password")
    )
    result = invoke(wrong)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "sluice: postgres: cannot connect to PostgreSQL" in result.output
    assert "fix: " in result.output
    assert "Traceback" not in result.output


def test_postgres_errors_are_psycopg_free_in_the_message(settings, schema, sql_dir):
    write(sql_dir, "0001_typo.sql", "CREAT TABLE a (id int);\n")
    with pytest.raises(MigrationError) as error:
        migrate(settings, sql_dir=sql_dir, schema=schema)
    assert str(error.value).startswith("0001_typo.sql line 1 failed and was rolled back: ")
    assert 'syntax error at or near "CREAT"' in str(error.value)
    assert isinstance(error.value.__cause__, psycopg.Error)
