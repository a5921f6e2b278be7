"""Daily exports: one gzipped CSV per table and UTC day (the ``export_daily`` DAG).

files = export_day(conn, date(2026, 11, 22), Path("/exports"))
# /exports/2026-11-22/products.csv.gz, ... each with its row count and sha256
"""

from sluice.export.daily import (
    TABLES,
    ExportedFile,
    ExportError,
    export_day,
    export_path,
)

__all__ = ["TABLES", "ExportError", "ExportedFile", "export_day", "export_path"]
