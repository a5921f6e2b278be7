"""Numbered plain-SQL migrations for PostgreSQL, applied in order and recorded with checksums.

Migrations are the files ``sql/NNNN_name.sql`` of the project (``0001_extensions.sql``,
``0002_products.sql``, ...), numbered from 1 without gaps. :func:`migrate` connects as the
owner role, takes a PostgreSQL advisory lock so that only one runner works at a time, and
applies each pending file in its own transaction together with its row in
``schema_migrations`` (version, name, SHA-256 of the file, applied_at): a file either applies
entirely and is recorded, or leaves nothing behind.

An applied migration is history. The runner refuses to go on when the file of an applied
version changed (its checksum differs) or disappeared, or when a new file is numbered below a
version already applied; add a new migration instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import errors, sql

from sluice.settings import Settings
from sluice.storage.postgres import connect

log = logging.getLogger(__name__)

#: ``NNNN_name.sql``: four digits, an underscore, lowercase letters, digits and underscores
FILENAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9][a-z0-9_]*)\.sql$")
HISTORY_TABLE = "schema_migrations"
#: the advisory lock every runner takes (an arbitrary constant: "sluice" + 1 in hex)
LOCK_KEY = 0x736C7569636501
#: seconds a runner waits for another runner's lock before it gives up
DEFAULT_LOCK_TIMEOUT = 600.0
# The runner wraps each file in a transaction; a file that ends or starts one breaks that.
_TRANSACTION_CONTROL = re.compile(
    r"^\s*(BEGIN|START\s+TRANSACTION|COMMIT|ROLLBACK)\s*(TRANSACTION|WORK)?\s*;",
    re.IGNORECASE | re.MULTILINE,
)


class MigrationError(Exception):
    """Migrations cannot be discovered or applied; the message names the file and the cause.

    ``fix`` says what to do about it, when that is known; ``applied`` lists the migrations
    this run committed before the failure.
    """

    def __init__(
        self, message: str, *, fix: str | None = None, applied: list[Migration] | None = None
    ) -> None:
        super().__init__(message)
        self.fix = fix
        self.applied = applied or []


@dataclass(frozen=True)
class Migration:
    """One migration file: its number, name, checksum and SQL text."""

    version: int
    name: str
    path: Path
    checksum: str
    sql: str = field(repr=False)

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class AppliedMigration:
    """A row of ``schema_migrations``."""

    version: int
    name: str
    checksum: str
    applied_at: datetime

    @property
    def filename(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"


@dataclass
class MigrationReport:
    """What one run of :func:`migrate` found and did."""

    schema: str
    dry_run: bool
    #: migrations this run applied (always empty for a dry run)
    applied: list[Migration]
    #: migrations still to apply: what a dry run would apply (empty after a real run)
    pending: list[Migration]
    #: how many migrations were applied before this run
    already_applied: int
    #: the highest version in ``schema_migrations`` after this run (0: none)
    current_version: int


# -- discovery ---------------------------------------------------------------------------------
def default_sql_dir(settings: Settings) -> Path:
    """The project's migrations folder, ``<project_dir>/sql``."""
    return settings.project_dir / "sql"


def checksum(data: bytes) -> str:
    """The checksum recorded for a migration: SHA-256 of the file's bytes, in hex."""
    return hashlib.sha256(data).hexdigest()


def discover(sql_dir: Path) -> list[Migration]:
    """Every ``NNNN_name.sql`` in ``sql_dir``, ordered by version.

    Raises :class:`MigrationError` naming the files when a ``.sql`` file is misnamed, empty,
    not UTF-8 or controls its own transaction, when two files share a number, or when the
    numbers do not run 1, 2, 3, ... without a gap. Files not ending in ``.sql`` are ignored.
    """
    if not sql_dir.is_dir():
        raise MigrationError(f"migrations folder {sql_dir} does not exist")
    problems: list[str] = []
    by_version: dict[int, list[Migration]] = {}
    for path in sorted(p for p in sql_dir.glob("*.sql") if p.is_file()):
        match = FILENAME.fullmatch(path.name)
        if not match:
            problems.append(
                f"{path.name} is not named NNNN_name.sql "
                "(four digits, '_', then lowercase letters, digits and '_')"
            )
            continue
        version = int(match["version"])
        if version == 0:
            problems.append(f"{path.name}: versions start at 0001")
            continue
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(f"{path.name} is not UTF-8 ({exc.reason} at byte {exc.start})")
            continue
        if not _without_comments(text).strip():
            problems.append(f"{path.name} is empty")
            continue
        control = _TRANSACTION_CONTROL.search(text)
        if control:
            line = text.count("\n", 0, control.start(1)) + 1
            problems.append(
                f"{path.name} line {line}: {control.group(1).upper()} controls the transaction, "
                "but the runner already wraps each file in one; remove it"
            )
            continue
        migration = Migration(version, match["name"], path, checksum(data), text)
        by_version.setdefault(version, []).append(migration)

    for version, same in sorted(by_version.items()):
        if len(same) > 1:
            names = ", ".join(m.filename for m in same)
            problems.append(f"version {version:04d} is used by more than one file: {names}")
    ordered = [same[0] for _, same in sorted(by_version.items())]
    expected = 1
    for migration in ordered:
        if migration.version != expected:
            before = next((m.filename for m in ordered if m.version == expected - 1), None)
            missing = (
                f"{expected:04d}"
                if migration.version == expected + 1
                else f"{expected:04d}-{migration.version - 1:04d}"
            )
            where = f"between {before} and" if before else "before"
            problems.append(f"migration {missing} is missing: a gap {where} {migration.filename}")
        expected = migration.version + 1
    if problems:
        raise MigrationError(
            f"bad migrations in {sql_dir}: " + "; ".join(problems),
            fix="name migration files NNNN_name.sql, numbered 0001, 0002, ... without gaps",
        )
    return ordered


def _without_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return re.sub(r"--[^\n]*", "", text)


# -- history -----------------------------------------------------------------------------------
def pending_migrations(
    migrations: list[Migration], applied: dict[int, AppliedMigration]
) -> list[Migration]:
    """The migrations of ``migrations`` not yet in ``applied``, after checking the history.

    Raises :class:`MigrationError` naming the version and the file when an applied migration's
    file changed or disappeared, or when a pending file is numbered below an applied version.
    """
    files = {m.version: m for m in migrations}
    for version, row in sorted(applied.items()):
        migration = files.get(version)
        if migration is None:
            raise MigrationError(
                f"version {version:04d} ({row.filename}) was applied on "
                f"{row.applied_at:%Y-%m-%d %H:%M:%S %Z} but its file is missing from the "
                "migrations folder",
                fix=f"restore {row.filename}: applied migrations are history and stay in sql/",
            )
        if migration.checksum != row.checksum:
            raise MigrationError(
                f"version {version:04d} ({migration.filename}) changed after it was applied "
                f"(checksum {row.checksum[:12]}... when applied, {migration.checksum[:12]}... "
                "now)",
                fix=f"restore {migration.filename} as it was applied, and put the change in a "
                "new migration",
            )
        if migration.name != row.name:
            log.warning(
                "migration renamed version=%04d applied_as=%s file=%s (same checksum)",
                version,
                row.filename,
                migration.filename,
            )
    pending = [m for m in migrations if m.version not in applied]
    latest = max(applied, default=0)
    late = [m for m in pending if m.version < latest]
    if late:
        names = ", ".join(m.filename for m in late)
        raise MigrationError(
            f"{names} not applied, but the later version {latest:04d} already is",
            fix=f"renumber them after {latest:04d}",
        )
    return pending


def applied_migrations(
    conn: psycopg.Connection, schema: str = "public"
) -> dict[int, AppliedMigration]:
    """The rows of ``<schema>.schema_migrations`` by version (none if the table is missing)."""
    table = _history_table(schema)
    exists = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (f"{_quote(schema)}.{HISTORY_TABLE}",)
    ).fetchone()[0]
    if not exists:
        return {}
    rows = conn.execute(
        sql.SQL("SELECT version, name, checksum, applied_at FROM {} ORDER BY version").format(table)
    ).fetchall()
    return {row[0]: AppliedMigration(*row) for row in rows}


def plan(
    conn: psycopg.Connection, migrations: list[Migration], *, schema: str = "public"
) -> list[Migration]:
    """What :func:`migrate` would apply now, in order (checks the history; changes nothing)."""
    return pending_migrations(migrations, applied_migrations(conn, schema))


# -- applying ----------------------------------------------------------------------------------
def migrate(
    settings: Settings,
    *,
    dry_run: bool = False,
    sql_dir: Path | None = None,
    schema: str = "public",
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> MigrationReport:
    """Apply the pending migrations of ``sql_dir`` (default ``sql/``) as the owner role.

    ``schema`` is where tables are created and ``schema_migrations`` lives (tests use a scratch
    schema); it must exist. With ``dry_run`` nothing is changed, not even the history table.
    Raises :class:`MigrationError` on any problem; migrations applied before a failing one
    stay applied (each commits on its own) and are listed in the error's ``applied``.
    """
    migrations = discover(sql_dir or default_sql_dir(settings))
    with _owner_connection(settings.postgres_url) as conn:
        try:
            _use_schema(conn, schema)
            if dry_run:
                applied = applied_migrations(conn, schema)
                pending = pending_migrations(migrations, applied)
                return MigrationReport(
                    schema, True, [], pending, len(applied), max(applied, default=0)
                )
            with _runner_lock(conn, lock_timeout):
                _ensure_history_table(conn, schema)
                applied = applied_migrations(conn, schema)
                pending = pending_migrations(migrations, applied)
                if not pending:
                    log.info(
                        "migrations up to date schema=%s version=%d",
                        schema,
                        max(applied, default=0),
                    )
                done: list[Migration] = []
                for migration in pending:
                    _apply(conn, migration, schema, done)
                    done.append(migration)
        except psycopg.Error as exc:
            raise MigrationError(f"PostgreSQL: {_pg_message(exc)}") from exc
    current = max([*applied, *(m.version for m in done)], default=0)
    return MigrationReport(schema, False, done, [], len(applied), current)


def _apply(
    conn: psycopg.Connection, migration: Migration, schema: str, done: list[Migration]
) -> None:
    begun = time.monotonic()
    log.info(
        "applying migration version=%04d file=%s schema=%s",
        migration.version,
        migration.filename,
        schema,
    )
    try:
        with conn.transaction():
            # A migration may SET search_path; every one starts from the same.
            conn.execute(_search_path(schema))
            conn.execute(migration.sql)
            conn.execute(
                sql.SQL("INSERT INTO {} (version, name, checksum) VALUES (%s, %s, %s)").format(
                    _history_table(schema)
                ),
                (migration.version, migration.name, migration.checksum),
            )
    except psycopg.Error as exc:
        line = _error_line(migration.sql, exc)
        where = f"{migration.filename} line {line}" if line else migration.filename
        log.error(
            "migration failed version=%04d file=%s sqlstate=%s",
            migration.version,
            migration.filename,
            exc.sqlstate,
        )
        raise MigrationError(
            f"{where} failed and was rolled back: {_pg_message(exc)}",
            fix=f"fix {migration.filename} and run the migrations again",
            applied=list(done),
        ) from exc
    log.info(
        "migration applied version=%04d file=%s schema=%s elapsed=%.3fs",
        migration.version,
        migration.filename,
        schema,
        time.monotonic() - begun,
    )


@contextlib.contextmanager
def _owner_connection(url: str) -> Iterator[psycopg.Connection]:
    try:
        conn = connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise MigrationError(
            f"cannot connect to PostgreSQL at {_where(url)}: {_pg_message(exc)}",
            fix="start the stack (`sluice stack up`) or correct SLUICE_POSTGRES_URL",
        ) from exc
    with conn:
        yield conn


def _use_schema(conn: psycopg.Connection, schema: str) -> None:
    if not conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone():
        raise MigrationError(
            f"schema {schema!r} does not exist in {conn.info.dbname}",
            fix=f"create it first (CREATE SCHEMA {_quote(schema)})",
        )
    conn.execute(_search_path(schema))


def _search_path(schema: str) -> sql.Composed:
    # `public` stays on the path for the extensions' functions and operator classes.
    names = [schema] if schema == "public" else [schema, "public"]
    return sql.SQL("SET search_path TO {}").format(sql.SQL(", ").join(map(sql.Identifier, names)))


@contextlib.contextmanager
def _runner_lock(conn: psycopg.Connection, timeout: float) -> Iterator[None]:
    """Hold the runners' session-level advisory lock; wait at most ``timeout`` seconds."""
    got = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]
    if not got:
        log.info("waiting for the migration lock key=%d timeout=%.0fs", LOCK_KEY, timeout)
        begun = time.monotonic()
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{int(timeout * 1000)}",))
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        except errors.LockNotAvailable as exc:
            raise MigrationError(
                f"another migration runner held the lock for more than {timeout:.0f}s",
                fix="wait for it to finish (see pg_stat_activity), then run again",
            ) from exc
        finally:
            conn.execute("RESET lock_timeout")
        log.info("migration lock acquired waited=%.3fs", time.monotonic() - begun)
    try:
        yield
    finally:
        with contextlib.suppress(psycopg.Error):  # closing the session releases it anyway
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def _ensure_history_table(conn: psycopg.Connection, schema: str) -> None:
    """Create ``schema_migrations`` if needed, and keep it writable by the owner only."""
    table = _history_table(schema)
    regclass = f"{_quote(schema)}.{HISTORY_TABLE}"
    with conn.transaction():
        if not conn.execute("SELECT to_regclass(%s) IS NOT NULL", (regclass,)).fetchone()[0]:
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} ("
                    " version integer PRIMARY KEY CHECK (version > 0),"
                    " name text NOT NULL,"
                    " checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{{64}}$'),"
                    " applied_at timestamptz NOT NULL DEFAULT now())"
                ).format(table)
            )
            log.info("created the migration history table=%s.%s", schema, HISTORY_TABLE)
        # Default privileges (and `sluice stack up`, on every start) grant the writer role DML
        # on every table of the schema; this one is the owner's alone. Others may read it.
        grantees = conn.execute(
            "SELECT DISTINCT a.grantee, pg_get_userbyid(a.grantee) "
            "FROM pg_class c, aclexplode(c.relacl) a "
            "WHERE c.oid = %s::regclass AND a.grantee <> c.relowner "
            "AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')",
            (regclass,),
        ).fetchall()
        for grantee, name in grantees:
            name = "PUBLIC" if grantee == 0 else name
            role = sql.SQL(name) if grantee == 0 else sql.Identifier(name)
            conn.execute(
                sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(table, role)
            )
            log.info(
                "revoked writes on the history table=%s.%s role=%s", schema, HISTORY_TABLE, name
            )


# -- helpers -----------------------------------------------------------------------------------
def _history_table(schema: str) -> sql.Identifier:
    return sql.Identifier(schema, HISTORY_TABLE)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _where(url: str) -> str:
    """``user@host:port/db`` of a URL, without the password."""
    parts = urlsplit(url)
    return (
        f"{unquote(parts.username or '')}@{parts.hostname}:{parts.port or 5432}{parts.path or ''}"
    )


def _pg_message(exc: psycopg.Error) -> str:
    diag = exc.diag
    primary = diag.message_primary or (str(exc).strip().splitlines() or [repr(exc)])[0]
    text = primary
    if diag.message_detail:
        text += f" ({diag.message_detail})"
    if diag.message_hint:
        text += f"; hint: {diag.message_hint}"
    if diag.sqlstate:
        text += f" [SQLSTATE {diag.sqlstate}]"
    return text


def _error_line(text: str, exc: psycopg.Error) -> int | None:
    """The line of ``text`` that PostgreSQL's error position points at, if it gave one."""
    position = exc.diag.statement_position
    if not position or not position.isdigit():
        return None
    # The position counts characters from 1 in the text as sent.
    return text.count("\n", 0, int(position) - 1) + 1
