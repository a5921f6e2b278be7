"""One UTC day of each table as a gzipped CSV file, streamed straight from PostgreSQL.

``COPY (SELECT ...) TO STDOUT`` hands the rows over in chunks that go through gzip into a
temporary file beside the target, which is renamed over the target once complete: a reader
never sees half a file, and a rerun for the same day replaces the file whole.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import BinaryIO

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from sluice.export.cells import safe_column


def _text(*columns: str) -> str:
    """Crawled text columns, each guarded against running as a spreadsheet formula."""
    return ", ".join(safe_column(c, c.rpartition(".")[2]) for c in columns)


# Each export names its columns, so a migration adding a column does not silently change
# the files' layout; product_prices also carries the product's natural key, without which
# a price row means nothing outside this database. Text a website wrote goes through _text.
EXPORTS: dict[str, str] = {
    "products": f"""
        SELECT id, {_text("source", "external_id", "name", "brand", "category")},
               price, currency, availability, rating, review_count,
               {_text("image_url", "url")}, first_seen_at, last_seen_at,
               last_crawl_id, updated_at
        FROM products
        WHERE updated_at >= %(start)s AND updated_at < %(end)s
        ORDER BY id
    """,  # noqa: S608 - constant columns, guarded by _text
    "product_prices": f"""
        SELECT pp.id, pp.product_id, {_text("p.source", "p.external_id")}, pp.price, pp.currency,
               pp.availability, pp.observed_at, pp.crawl_id
        FROM product_prices pp
        JOIN products p ON p.id = pp.product_id
        WHERE pp.observed_at >= %(start)s AND pp.observed_at < %(end)s
        ORDER BY pp.id
    """,  # noqa: S608 - constant columns, guarded by _text
    "quotes": f"""
        SELECT id, {_text("symbol", "name", "exchange")}, price, currency, change, change_pct,
               volume, as_of, trade_date, {_text("source")}, crawl_id, fetched_at, updated_at
        FROM quotes
        WHERE trade_date = %(day)s
        ORDER BY id
    """,  # noqa: S608 - constant columns, guarded by _text
    "crawl_runs": """
        SELECT crawl_id, spider, airflow_run_id, status, params, stats, started_at,
               finished_at, items_received, items_stored, items_rejected, updated_at
        FROM crawl_runs
        WHERE started_at >= %(start)s AND started_at < %(end)s
        ORDER BY started_at, crawl_id
    """,
}

#: every exportable table, in the order :func:`export_day` writes them
TABLES: tuple[str, ...] = tuple(EXPORTS)


#: session settings the CSV text depends on
_SESSION = {"TimeZone": "UTC", "DateStyle": "ISO, YMD"}


class ExportError(RuntimeError):
    """An export failed; the message names the table, the day and the cause."""


@dataclass(frozen=True)
class ExportedFile:
    """One written file: where, how many rows, and the SHA-256 of its (gzipped) bytes."""

    table: str
    day: date
    path: Path
    rows: int
    sha256: str
    size: int


def export_path(dest_dir: Path, day: date, table: str) -> Path:
    """Where the export of ``table`` for ``day`` goes: ``<dest>/<YYYY-MM-DD>/<table>.csv.gz``."""
    return Path(dest_dir) / day.isoformat() / f"{table}.csv.gz"


def export_day(
    conn: psycopg.Connection,
    day: date,
    dest_dir: Path,
    tables: Sequence[str] = TABLES,
) -> list[ExportedFile]:
    """Write one gzipped CSV (with a header row) per table for the UTC day ``day``.

    products: rows updated that day; product_prices: observed that day; quotes: of trading
    day ``day``; crawl_runs: started that day. Timestamps are written in UTC. All tables are
    read from one repeatable-read snapshot when the connection is idle (inside a transaction
    the caller opened, from a savepoint of it). Rerunning replaces the day's files.
    """
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"day must be a date, not {day!r}")
    if isinstance(tables, str):
        raise TypeError(f"tables must be a list of table names, not the string {tables!r}")
    unknown = [t for t in tables if t not in EXPORTS]
    if unknown:
        raise ValueError(f"cannot export {unknown}; exportable tables: {', '.join(TABLES)}")
    start = datetime.combine(day, time.min, tzinfo=UTC)
    params = {"start": start, "end": start + timedelta(days=1), "day": day}
    target_dir = Path(dest_dir) / day.isoformat()
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create export directory {target_dir}: {exc}") from exc

    exported = []
    with _utc_snapshot(conn):
        for table in dict.fromkeys(tables):
            exported.append(
                _export_table(conn, table, day, params, export_path(dest_dir, day, table))
            )
    _fsync_dir(target_dir)
    return exported


def _export_table(
    conn: psycopg.Connection, table: str, day: date, params: dict, target: Path
) -> ExportedFile:
    statement = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(
        sql.SQL(EXPORTS[table].strip())
    )
    temp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "wb") as raw:
            hashed = _HashingWriter(raw)
            # mtime=0 and a fixed inner name: the same rows give the same bytes (and sha256)
            # on every rerun.
            with (
                gzip.GzipFile(filename=f"{table}.csv", mode="wb", fileobj=hashed, mtime=0) as gz,
                conn.cursor() as cur,
            ):
                with cur.copy(statement, params) as copy:
                    for chunk in copy:
                        gz.write(chunk)
                rows = cur.rowcount
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temp, target)
    except (OSError, psycopg.Error) as exc:
        temp.unlink(missing_ok=True)
        raise ExportError(
            f"exporting {table} for {day.isoformat()} to {target} failed: {exc}"
        ) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return ExportedFile(table, day, target, rows, hashed.sha256.hexdigest(), hashed.size)


class _HashingWriter:
    """A write-only file object that hashes and counts what passes through to ``raw``."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


@contextmanager
def _utc_snapshot(conn: psycopg.Connection) -> Iterator[None]:
    idle = conn.info.transaction_status == TransactionStatus.IDLE
    with conn.transaction():
        if idle:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # COPY prints timestamps in the session's time zone and date style; the files are
        # ISO and UTC whatever the session says. A SET LOCAL would outlive a savepoint, so
        # the caller's values are put back afterwards.
        previous = {
            name: conn.execute("SELECT current_setting(%s)", (name,)).fetchone()[0]
            for name in _SESSION
        }
        for name, value in _SESSION.items():
            conn.execute("SELECT set_config(%s, %s, true)", (name, value))
        yield
        for name, value in previous.items():
            conn.execute("SELECT set_config(%s, %s, true)", (name, value))


def _fsync_dir(path: Path) -> None:
    # The renames are durable only once the directory itself is on disk.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
