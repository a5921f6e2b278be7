"""Daily export: paths, argument checks and hashing, without a database."""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime
from pathlib import Path

import pytest

from sluice.export import TABLES, export_day, export_path
from sluice.export.daily import EXPORTS, _HashingWriter


def test_one_file_per_table_under_the_day():
    assert export_path(Path("/x"), date(2026, 11, 22), "quotes") == Path(
        "/x/2026-11-22/quotes.csv.gz"
    )
    assert TABLES == ("products", "product_prices", "quotes", "crawl_runs")


def test_every_export_is_bound_to_the_day_and_ordered():
    for table, query in EXPORTS.items():
        assert "%(start)s" in query or "%(day)s" in query, table
        assert "ORDER BY" in query, table


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"tables": ["products", "users"]}, ValueError, "cannot export ['users']"),
        ({"tables": "products"}, TypeError, "not the string 'products'"),
        ({"day": datetime(2026, 11, 22, 5)}, TypeError, "must be a date"),
    ],
)
def test_bad_arguments_fail_before_any_query(tmp_path, kwargs, error, words):
    args = {"day": date(2026, 11, 22), "dest_dir": tmp_path, **kwargs}
    with pytest.raises(error) as info:
        export_day(object(), **args)
    assert words in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_hashing_writer_hashes_and_counts_what_it_passes_on():
    raw = io.BytesIO()
    writer = _HashingWriter(raw)
    for chunk in (b"a,b\n", b"1,2\n", b""):
        writer.write(chunk)
    writer.flush()
    assert raw.getvalue() == b"a,b\n1,2\n"
    assert writer.size == 8
    assert writer.sha256.hexdigest() == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
