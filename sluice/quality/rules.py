"""Turn the counts the checks' SQL returns into :class:`CheckResult` values (pure logic).

Each function judges one scope against its threshold and writes the sentence a person reads
in a failed task's log, so the wording and the arithmetic are testable without a database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sluice.quality.results import CheckResult, scope_of
from sluice.schemas.currencies import ISO_4217


@dataclass(frozen=True)
class RunCount:
    """A crawl run and how many items it stored."""

    crawl_id: str
    items_stored: int
    status: str = "finished"
    started_at: datetime | None = None


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%".replace(".0%", "%")


def _examples(examples: Sequence[object] | None) -> str:
    shown = [str(e) for e in (examples or [])]
    return f" (e.g. {', '.join(shown)})" if shown else ""


def row_count_vs_previous(
    spider: str | None,
    current: RunCount | None,
    previous: RunCount | None,
    max_drop: float,
    *,
    requested_crawl_id: str | None = None,
) -> CheckResult:
    """Judge a spider's newest run (or ``requested_crawl_id``) against its previous finished run.

    Observed is the drop as a share of the previous count (0 when the count grew), so it
    compares directly with ``max_drop``.
    """
    scope = scope_of(spider=spider)
    if current is None:
        if requested_crawl_id is not None:
            scope = scope_of(spider=spider or None, crawl_id=requested_crawl_id)
            return CheckResult(
                "row_count_vs_previous",
                scope,
                False,
                None,
                max_drop,
                {"crawl_id": requested_crawl_id, "reason": "crawl run not recorded"},
                f"crawl {requested_crawl_id} is not recorded in crawl_runs, so its item "
                "count cannot be compared",
            )
        return CheckResult(
            "row_count_vs_previous",
            scope,
            True,
            None,
            max_drop,
            {"reason": "no finished run"},
            "no finished run yet: nothing to compare",
        )
    details = {"crawl_id": current.crawl_id, "items_stored": current.items_stored}
    if previous is None:
        return CheckResult(
            "row_count_vs_previous",
            scope,
            True,
            None,
            max_drop,
            {**details, "reason": "no previous finished run"},
            f"crawl {current.crawl_id} stored {current.items_stored} items; no previous "
            "finished run to compare with",
        )
    details |= {
        "previous_crawl_id": previous.crawl_id,
        "previous_items_stored": previous.items_stored,
    }
    if previous.items_stored <= 0:
        drop = 0.0
    else:
        drop = max(0.0, (previous.items_stored - current.items_stored) / previous.items_stored)
    passed = drop <= max_drop
    change = (
        f"{_pct(drop)} fewer than"
        if drop > 0
        else ("as many as" if current.items_stored == previous.items_stored else "more than")
    )
    message = (
        f"crawl {current.crawl_id} stored {current.items_stored} items, {change} the "
        f"{previous.items_stored} of previous run {previous.crawl_id}"
    )
    if not passed:
        message += f" (a drop of at most {_pct(max_drop)} is tolerated)"
    return CheckResult(
        "row_count_vs_previous", scope, passed, round(drop, 6), max_drop, details, message
    )


def null_rate(
    table: str,
    column: str,
    source: str,
    rows: int,
    missing: int,
    max_rate: float,
    examples: Sequence[object] | None = None,
) -> CheckResult:
    """Judge the share of rows of a source whose ``column`` is NULL or blank."""
    rate = missing / rows if rows else 0.0
    passed = rate <= max_rate
    message = f"{missing} of {rows} rows ({_pct(rate)}) have no {column}"
    if not passed:
        message += f", more than the {_pct(max_rate)} tolerated{_examples(examples)}"
    return CheckResult(
        "null_rate",
        scope_of(table, column, source),
        passed,
        round(rate, 6),
        max_rate,
        {"rows": rows, "missing": missing, "examples": list(examples or [])},
        message,
    )


def positive_prices(
    table: str,
    source: str,
    rows: int,
    bad: int,
    max_bad: int,
    examples: Sequence[object] | None = None,
) -> CheckResult:
    """Judge the rows of a source whose price is missing or not greater than 0.

    The data contract has no price-less products (the item schema requires a price for
    every availability), so a missing price counts as bad as a zero or negative one.
    """
    passed = bad <= max_bad
    message = f"{bad} of {rows} rows have a price that is missing or not greater than 0"
    if not passed:
        message += _examples(examples)
    return CheckResult(
        "positive_prices",
        scope_of(table, source=source),
        passed,
        bad,
        max_bad,
        {"rows": rows, "bad": bad, "examples": list(examples or [])},
        message,
    )


def iso_currency(
    table: str,
    source: str,
    counts: Mapping[str | None, int],
    max_bad: int,
    examples: Mapping[str | None, object] | None = None,
) -> CheckResult:
    """Judge the currencies of a source's rows (``{currency: rows}``) against ISO 4217."""
    rows = sum(counts.values())
    bad = {c: n for c, n in counts.items() if c not in ISO_4217}
    bad_rows = sum(bad.values())
    passed = bad_rows <= max_bad
    message = f"{bad_rows} of {rows} rows have a currency that is not an ISO 4217 code"
    if bad:
        shown = ", ".join(
            f"{'NULL' if c is None else repr(c)}: {n} row{'s' if n != 1 else ''}"
            + (f" e.g. {examples[c]}" if examples and examples.get(c) is not None else "")
            for c, n in sorted(bad.items(), key=lambda item: (-item[1], str(item[0])))
        )
        message += f" ({shown})"
    return CheckResult(
        "iso_currency",
        scope_of(table, source=source),
        passed,
        bad_rows,
        max_bad,
        {
            "rows": rows,
            "bad": bad_rows,
            "bad_currencies": {
                ("NULL" if c is None else c): n
                for c, n in sorted(bad.items(), key=lambda item: str(item[0]))
            },
        },
        message,
    )


def duplicates(
    table: str,
    source: str,
    key: str,
    rows: int,
    groups: int,
    extra_rows: int,
    max_extra: int,
    examples: Sequence[Sequence[object]] | None = None,
) -> CheckResult:
    """Judge rows whose ``key`` repeats once case and whitespace are ignored.

    Observed is the number of rows beyond the first of each such key.
    """
    passed = extra_rows <= max_extra
    if groups == 0:
        message = f"no {key} repeats among {rows} rows (case and whitespace ignored)"
    else:
        message = (
            f"{groups} {key} value{'s' if groups != 1 else ''} among {rows} rows "
            f"repeat{'s' if groups == 1 else ''} when case and whitespace are ignored"
        )
        if examples:
            message += ": " + "; ".join(" vs ".join(repr(v) for v in g) for g in examples)
        message += f" ({extra_rows} extra row{'s' if extra_rows != 1 else ''})"
    return CheckResult(
        "duplicates",
        scope_of(table, source=source),
        passed,
        extra_rows,
        max_extra,
        {
            "rows": rows,
            "key": key,
            "duplicate_keys": groups,
            "extra_rows": extra_rows,
            "examples": [list(g) for g in (examples or [])],
        },
        message,
    )


def source_freshness(
    table: str,
    source: str,
    newest: datetime | None,
    age_hours: float | None,
    max_age_hours: float,
    newest_fetched: datetime | None = None,
) -> CheckResult:
    """Judge how long ago a source's newest row of ``table`` was stored."""
    details = {"newest_updated_at": newest, "newest_fetched_at": newest_fetched}
    if newest is None or age_hours is None:
        return CheckResult(
            "freshness",
            scope_of(table, source=source),
            False,
            None,
            max_age_hours,
            details,
            f"no rows stored for source {source}",
        )
    passed = age_hours <= max_age_hours
    message = f"newest row stored {age_hours:.1f} h ago ({newest.isoformat()})"
    if not passed:
        message += f", older than the {max_age_hours:g} h tolerated"
    return CheckResult(
        "freshness",
        scope_of(table, source=source),
        passed,
        round(age_hours, 3),
        max_age_hours,
        details,
        message,
    )


def missing_source(source: str, max_age_hours: float) -> CheckResult:
    """A source that was asked for by name but has no rows in scope at all."""
    return CheckResult(
        "freshness",
        scope_of(source=source),
        False,
        None,
        max_age_hours,
        {"reason": "no rows"},
        f"no products or quotes stored for source {source}",
    )


def spider_freshness(
    spider: str,
    finished_at: datetime | None,
    age_hours: float | None,
    max_age_hours: float,
) -> CheckResult:
    """Judge how long ago a spider's newest finished run ended.

    A spider that never finished a run passes (its first run is the one being checked);
    the ``pipeline_health`` DAG reports spiders that stopped finishing runs.
    """
    scope = scope_of(spider=spider)
    if finished_at is None or age_hours is None:
        return CheckResult(
            "freshness",
            scope,
            True,
            None,
            max_age_hours,
            {"reason": "no finished run"},
            "no finished run yet",
        )
    passed = age_hours <= max_age_hours
    message = f"newest finished run ended {age_hours:.1f} h ago ({finished_at.isoformat()})"
    if not passed:
        message += f", older than the {max_age_hours:g} h tolerated"
    return CheckResult(
        "freshness",
        scope,
        passed,
        round(age_hours, 3),
        max_age_hours,
        {"newest_finished_at": finished_at},
        message,
    )


def failed_pages_share(
    crawl_id: str, failed: int, pages: int, max_share: float, examples: Sequence[str] = ()
) -> CheckResult:
    """Judge the share of a crawl's pages that finally failed (after their retries).

    The share is of every page the crawl tried: fetched ones and failed ones.
    """
    tried = pages + failed
    share = failed / tried if tried else 0.0
    passed = share <= max_share
    message = (
        f"{failed} of {tried} pages failed ({_pct(share)}, at most {_pct(max_share)} allowed)"
        + ("" if passed else _examples(list(examples)[:3]))
        + ("" if passed else f"; `sluice crawl retry {crawl_id}` crawls them again")
    )
    return CheckResult(
        "failed_pages",
        scope_of(crawl_id=crawl_id),
        passed,
        share,
        max_share,
        {"failed": failed, "pages": pages, "examples": list(examples)[:10]},
        message,
    )
