"""CSV cells a spreadsheet opens as text: crawled strings never run as formulas.

Any website can name a product ``=HYPERLINK("http://evil", "Click")``; a spreadsheet that
opens an export would run it. A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading apostrophe, which spreadsheets take as "this is text" and do
not show (OWASP's guidance on CSV injection). Only text columns are touched: a negative
number in a numeric column stays a number. :func:`safe_cell` serves the API's streamed CSV,
:func:`safe_column` the SQL of the daily exports (written by PostgreSQL's ``COPY``).
"""

from __future__ import annotations

#: What a spreadsheet takes as the start of a formula (or of a cell it reparses).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"


def safe_cell(value: str) -> str:
    """``value`` with an apostrophe in front when a spreadsheet would run it."""
    return GUARD + value if value.startswith(FORMULA_STARTS) else value


def safe_column(expression: str, name: str) -> str:
    """A SELECT item giving text ``expression`` as column ``name``, guarded like safe_cell."""
    return (
        f"CASE WHEN left({expression}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') "
        f"THEN '''' || {expression} ELSE {expression} END AS {name}"
    )
