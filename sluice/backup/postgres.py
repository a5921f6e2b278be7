"""PostgreSQL side of backups: pg_dump / pg_restore, scratch databases, table content stats.

The client programs get the connection as a libpq conninfo without the password, which goes
in ``PGPASSWORD``: a password on a command line is visible to every user of the machine.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from sluice.backup.errors import BackupError, first_line, step
from sluice.backup.manifest import ContentStats
from sluice.storage.postgres import connect

log = logging.getLogger(__name__)

APPLICATION_NAME = "sluice-backup"
#: PostgreSQL's limit on identifiers (database names included)
_MAX_NAME = 63
_STDERR_TAIL = 800
_ROW = "sluice backup row"
# Text output of these types depends on session settings; fixing them makes a table's
# checksum the same in every session, database and server of the same major version.
_STABLE_OUTPUT = (
    "SET LOCAL TimeZone TO 'UTC'",
    "SET LOCAL DateStyle TO 'ISO, YMD'",
    "SET LOCAL IntervalStyle TO 'postgres'",
    "SET LOCAL extra_float_digits TO 1",
    "SET LOCAL bytea_output TO 'hex'",
)
# User tables: ordinary, not temporary, outside the system schemas and not owned by an
# extension (pg_dump does not dump extension tables' rows either).
_TABLES = """
SELECT c.oid, n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence <> 't'
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
"""
_PRIMARY_KEY = """
SELECT a.attname, a.attcollation <> 0
FROM pg_index i
JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) ON true
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = %s AND i.indisprimary
ORDER BY k.position
"""


def database_name(url: str) -> str:
    """The database a PostgreSQL URL names."""
    name = conninfo_to_dict(url).get("dbname")
    if not name:
        raise BackupError(f"PostgreSQL URL {redact(url)} names no database")
    return str(name)


def redact(url: str) -> str:
    """``user@host:port/db`` of a URL or conninfo: safe to print, no password."""
    params = conninfo_to_dict(url)
    return (
        f"{params.get('user', '')}@{params.get('host', 'localhost')}:{params.get('port', 5432)}"
        f"/{params.get('dbname', '')}"
    )


def with_database(url: str, dbname: str) -> str:
    """The same server and credentials as ``url``, another database (a libpq conninfo)."""
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


def client_target(url: str) -> tuple[str, dict[str, str]]:
    """The conninfo to pass a client program (no password), and its environment (with it)."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    params.setdefault("application_name", APPLICATION_NAME)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**params), env


def program(name: str, pg_bindir: Path | None) -> str:
    """The path of a PostgreSQL client program: from ``pg_bindir``, else from PATH."""
    if pg_bindir is not None:
        candidate = Path(pg_bindir) / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
        raise BackupError(
            f"{candidate} not found or not executable",
            fix="install postgresql-client-15 or set SLUICE_PG_BINDIR to its bin directory",
        )
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not on PATH", fix="install postgresql-client-15")
    return found


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    log.debug("running %s", " ".join(argv))
    try:
        result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupError(f"{what}: cannot run {argv[0]}: {exc}") from exc
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip()[-_STDERR_TAIL:]
        raise BackupError(f"{what}: {Path(argv[0]).name} exited {result.returncode}:\n{tail}")


def dump(
    url: str, path: Path, *, pg_bindir: Path | None = None, snapshot: str | None = None
) -> None:
    """``pg_dump`` the database of ``url`` in custom format (compressed) to ``path``.

    With ``snapshot`` (from ``pg_export_snapshot()``) the dump sees exactly what that
    transaction sees, so counts taken in the same transaction describe the dump.
    """
    target, env = client_target(url)
    argv = [program("pg_dump", pg_bindir), "--format=custom", f"--file={path}", "--no-password"]
    if snapshot:
        argv.append(f"--snapshot={snapshot}")
    _run([*argv, f"--dbname={target}"], env, f"postgres: dumping {redact(url)}")


def restore(
    url: str,
    path: Path,
    *,
    pg_bindir: Path | None = None,
    clean: bool = False,
    jobs: int = 1,
) -> None:
    """``pg_restore`` a custom-format dump into the database of ``url``; stop at the first error.

    With ``clean`` the objects of the dump are dropped first and the whole restore runs in one
    transaction, so a failure leaves the database as it was. Without it ``jobs`` > 1 restores
    in parallel (into an empty database).
    """
    target, env = client_target(url)
    argv = [program("pg_restore", pg_bindir), "--exit-on-error", "--no-password"]
    if clean:
        argv += ["--clean", "--if-exists", "--single-transaction"]
    elif jobs > 1:
        argv.append(f"--jobs={jobs}")
    _run([*argv, f"--dbname={target}", str(path)], env, f"postgres: restoring into {redact(url)}")


def table_stats(conn: psycopg.Connection) -> dict[str, ContentStats]:
    """Rows and a content checksum of every user table, keyed ``schema.table``.

    The checksum is the SHA-256 of the table's COPY text output ordered by the primary key
    (by the whole row where there is none), with output settings fixed, so a table restored
    anywhere gives the same value. On a connection in a REPEATABLE READ transaction all
    tables are read from that transaction's snapshot.
    """
    stats: dict[str, ContentStats] = {}
    with conn.transaction():
        for statement in _STABLE_OUTPUT:
            conn.execute(statement)
        tables = conn.execute(_TABLES).fetchall()
        for oid, schema, table in tables:
            stats[f"{schema}.{table}"] = _one_table(conn, oid, schema, table)
    return stats


def restored_table_stats(url: str) -> dict[str, ContentStats]:
    """:func:`table_stats` of the database at ``url`` after a restore into it."""
    with (
        step(f"postgres: reading the restored tables of {redact(url)}"),
        connect(url, autocommit=True, timeout=30) as conn,
    ):
        return table_stats(conn)


def _one_table(conn: psycopg.Connection, oid: int, schema: str, table: str) -> ContentStats:
    key = conn.execute(_PRIMARY_KEY, (oid,)).fetchall()
    if key:
        # Collatable keys in byte order: the same order whatever the database's collation.
        order = sql.SQL(", ").join(
            sql.SQL('{} COLLATE "C"' if collatable else "{}").format(sql.Identifier(name))
            for name, collatable in key
        )
    else:
        # The whole row as text; an alias no column is named like, so it means the row.
        order = sql.SQL('({}::text) COLLATE "C"').format(sql.Identifier(_ROW))
    query = sql.SQL("COPY (SELECT * FROM {}.{} AS {} ORDER BY {}) TO STDOUT").format(
        sql.Identifier(schema), sql.Identifier(table), sql.Identifier(_ROW), order
    )
    digest = hashlib.sha256()
    rows = 0
    with conn.cursor() as cur, cur.copy(query) as copy:
        for chunk in copy:
            # Text COPY escapes newlines inside values: one line is one row.
            rows += bytes(chunk).count(b"\n")
            digest.update(chunk)
    return ContentStats(rows, f"sha256:{digest.hexdigest()}")


@contextlib.contextmanager
def exported_snapshot(url: str) -> Iterator[tuple[psycopg.Connection, str]]:
    """A REPEATABLE READ, read-only transaction on ``url`` and the id of its snapshot.

    Hand the id to :func:`dump` and read :func:`table_stats` on the connection: both then see
    the same data, however busy the database is.
    """
    with step(f"postgres: connecting to {redact(url)}"):
        conn = connect(url, autocommit=False, timeout=30)
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with step("postgres: exporting a snapshot"):
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        yield conn, snapshot
    finally:
        conn.close()


def server_version(conn: psycopg.Connection) -> str:
    """``SHOW server_version`` of the connection's server."""
    return str(conn.execute("SHOW server_version").fetchone()[0])


def scratch_name(base: str) -> str:
    """A fresh database name ``<base>_restorecheck_<random>`` within PostgreSQL's limit."""
    suffix = f"_restorecheck_{uuid.uuid4().hex[:8]}"
    return f"{base[: _MAX_NAME - len(suffix)]}{suffix}"


@contextlib.contextmanager
def scratch_database(owner_url: str, base: str) -> Iterator[str]:
    """Create an empty database as the owner role; yield its conninfo; always drop it.

    The database comes from ``template0``, as pg_dump's documentation asks for a restore, and
    is dropped WITH (FORCE) so a connection left behind cannot keep it alive.
    """
    name = scratch_name(base)
    with (
        step(f"postgres: creating scratch database {name}"),
        connect(owner_url, autocommit=True, timeout=30) as conn,
    ):
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    log.debug("scratch database created name=%s", name)
    failed = True
    try:
        yield with_database(owner_url, name)
        failed = False
    finally:
        _drop(owner_url, name, quiet=failed)


def _drop(owner_url: str, name: str, *, quiet: bool) -> None:
    try:
        with connect(owner_url, autocommit=True, timeout=30) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        log.debug("scratch database dropped name=%s", name)
    except psycopg.Error as exc:
        # After another failure, that failure is the news; the leftover only gets logged.
        if quiet:
            log.error("cannot drop scratch database %s: %s", name, first_line(exc))
            return
        raise BackupError(
            f"postgres: cannot drop scratch database {name}: {first_line(exc)}",
            fix=f"drop it by hand: DROP DATABASE {name} WITH (FORCE)",
        ) from exc
