"""The crawl report as one self-contained HTML page: inline CSS and inline SVG, nothing else.

The page loads nothing: no scripts, style sheets, fonts or images, and its Content Security
Policy forbids them, so it opens the same from a laptop, a mail attachment or an artifact
store. Every value from the database goes through :func:`html.escape` (here or in
:mod:`sluice.report.svg`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sluice.report import svg
from sluice.report.data import (
    DOWN,
    UNCHANGED,
    UP,
    PriceChanges,
    ProgressPoint,
    RunReport,
    drop_counts,
    http_status_counts,
    key_counters,
)
from sluice.report.svg import esc

CSS = """
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec;
  --bar: #3b82c4; --accent: #1d5f99; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: var(--ink); background: #f5f7fa; }
main { max-width: 980px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.5em; margin: 0 0 4px; word-break: break-all; }
h2 { font-size: 1.2em; margin: 0 0 12px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; }
h3 { font-size: 1em; margin: 18px 0 8px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px;
  padding: 16px 20px; margin: 16px 0; }
.sub, .note, footer { color: var(--muted); font-size: 0.9em; }
table { border-collapse: collapse; margin: 4px 0 8px; }
th, td { text-align: left; padding: 3px 14px 3px 0; vertical-align: top;
  border-bottom: 1px solid #eef2f6; }
th[scope=row] { font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: #f0f4f8; padding: 8px 10px; border-radius: 4px; overflow-x: auto;
  white-space: pre-wrap; word-break: break-all; margin: 0; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600;
  background: #e4e7eb; }
.status-finished { background: #d5f5e3; color: #1e7a45; }
.status-failed { background: #fde2e1; color: #a61b1b; }
.status-running, .status-pending { background: #fff3c4; color: #8d6100; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
svg.chart { max-width: 100%; height: auto; font-size: 12px; }
svg.chart .chart-title { font-size: 14px; font-weight: 600; fill: var(--ink); }
svg.chart .axis { stroke: #52606d; stroke-width: 1; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart .tick { fill: var(--muted); }
svg.chart .axis-label { fill: var(--ink); }
svg.chart .bar { fill: var(--bar); }
svg.chart .value { fill: var(--ink); font-size: 11px; }
svg.chart .line { stroke: var(--accent); stroke-width: 2; }
svg.chart .point { fill: var(--accent); }
svg.chart .no-data { fill: var(--muted); font-style: italic; }
details summary { cursor: pointer; color: var(--accent); }
"""

# Browsers enforce that the page loads nothing: a stray URL in the data cannot fetch.
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration_text(duration: timedelta | None) -> str:
    """``1 h 02 min 05 s``, ``3 min 12 s``, ``12.3 s``; ``—`` when unknown."""
    if duration is None:
        return "—"
    seconds = duration.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s"


def _count(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _rows(rows: Iterable[tuple[str, str]], *, raw: bool = False) -> str:
    """``<tr><th scope="row">label</th><td>value</td></tr>`` rows; values escaped unless
    ``raw`` (markup this module built)."""
    return "".join(
        f'<tr><th scope="row">{esc(label)}</th><td>{value if raw else esc(value)}</td></tr>'
        for label, value in rows
    )


def _count_table(counts: Sequence[tuple[str, int]], caption: str, css_id: str) -> str:
    body = "".join(
        f'<tr><th scope="row">{esc(label)}</th><td class="num">{count:,}</td></tr>'
        for label, count in counts
    )
    return (
        f'<table id="{css_id}"><thead><tr><th>{esc(caption)}</th><th>count</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _summary(report: RunReport) -> str:
    run = report.run
    status = (
        f'<span class="status status-{esc(run.status)}">{esc(run.status)}</span>'
        if run.status
        else "—"
    )
    rows = [
        ("crawl id", f"<code>{esc(run.crawl_id)}</code>"),
        ("spider", esc(run.spider or "—")),
        ("Airflow run id", esc(run.airflow_run_id or "—")),
        ("status", status),
        ("started", esc(_when(run.started_at))),
        ("finished", esc(_when(run.finished_at))),
        ("duration", esc(duration_text(run.duration))),
        ("items received", f'<span id="items-received">{run.items_received:,}</span>'),
        ("items stored", f'<span id="items-stored">{run.items_stored:,}</span>'),
        ("items rejected", f'<span id="items-rejected">{run.items_rejected:,}</span>'),
        ("row last updated", esc(_when(run.updated_at))),
    ]
    params = json.dumps(run.params, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    counters = key_counters(run.stats)
    if counters:
        counter_rows = "".join(
            f'<tr><th scope="row"><code>{esc(name)}</code></th><td>{esc(meaning)}</td>'
            f'<td class="num">{esc(_count(value))}</td></tr>'
            for name, meaning, value in counters
        )
        counter_html = (
            '<table id="key-counters"><thead><tr><th>stat</th><th>meaning</th>'
            f"<th>value</th></tr></thead><tbody>{counter_rows}</tbody></table>"
        )
    else:
        counter_html = '<p class="note">The run has no crawl stats (yet): they are recorded '
        counter_html += "when the run is finalized.</p>"
    return (
        '<section id="summary"><h2>Summary</h2>'
        f'<table class="kv">{_rows(rows, raw=True)}</table>'
        '<p class="note">Received: items delivered to Kafka (stat <code>kafka/delivered</code>, '
        "recorded when the run is finalized). Stored and rejected: counted by the processors "
        "(products and quotes of the crawl, and its <code>rejected_items</code>).</p>"
        f"<h3>Parameters</h3><pre>{esc(params)}</pre>"
        f"<h3>Key counters</h3>{counter_html}</section>"
    )


def _time_format(points: Sequence[ProgressPoint]) -> Callable[[float], str]:
    span = (points[-1].at - points[0].at).total_seconds() if points else 0

    def label(x: float) -> str:
        moment = datetime.fromtimestamp(x, UTC)
        if span < 10:
            # Five ticks over a few seconds would repeat the same whole second.
            return moment.strftime("%H:%M:%S.%f")[:-5]
        return moment.strftime("%H:%M:%S" if span < 86_400 else "%m-%d %H:%M")

    return label


def _progress(report: RunReport) -> str:
    points = list(report.progress)
    started = report.run.started_at
    if points and started is not None and started < points[0].at:
        # The run's start as the curve's origin shows how long the first item took.
        points.insert(0, ProgressPoint(started, 0))
    day = points[0].at.astimezone(UTC).date().isoformat() if points else ""
    chart = svg.line_chart(
        [(p.at.timestamp(), p.stored) for p in points],
        title="Items stored over time (cumulative)",
        x_label=f"fetch time (UTC, from {day})" if day else "fetch time (UTC)",
        y_label="items stored",
        x_format=_time_format(points),
        step=True,
        empty="No stored item can be traced to this crawl: nothing to plot.",
    )
    traced = report.progress[-1].stored if report.progress else 0
    lost = report.run.items_stored - traced
    gap = (
        f'<p class="note" id="untraced">The processors counted {report.run.items_stored:,} '
        f"items stored for this run; {lost:,} of them were seen again by a later crawl, which "
        "they count for now, without a price change that would still name this one.</p>"
        if lost > 0
        else ""
    )
    return (
        '<section id="progress"><h2>Crawl progress</h2>'
        f'<div class="charts">{chart}</div>{gap}'
        '<p class="note">Each stored item at the time its page was fetched (PostgreSQL keeps '
        "no time of storage per item): <code>products.last_seen_at</code> of the products "
        "whose newest observation is this crawl (<code>last_crawl_id</code>), "
        "<code>quotes.fetched_at</code> of its quotes, and for products seen again since, "
        "the crawl's last <code>product_prices</code> row of them.</p></section>"
    )


def _items(report: RunReport) -> str:
    run = report.run
    status_chart = svg.bar_chart(
        [
            ("received", run.items_received),
            ("stored", run.items_stored),
            ("rejected", run.items_rejected),
        ],
        title="Items by status",
        x_label="status",
        y_label="items",
    )
    reason_chart = svg.bar_chart(
        [(f"{r.reason} ({r.stage})", r.count) for r in report.rejections],
        title="Rejected items by reason (stage)",
        x_label="reason (stage)",
        y_label="items",
        empty="No item of this crawl was rejected.",
    )
    http_chart = svg.bar_chart(
        http_status_counts(run.stats),
        title="Responses by HTTP status",
        x_label="HTTP status",
        y_label="responses",
        empty="The crawl stats hold no HTTP status counts.",
    )
    drops = drop_counts(run.stats)
    drop_chart = (
        svg.bar_chart(
            drops,
            title="Items dropped by the spider, by reason",
            x_label="reason",
            y_label="items",
        )
        if drops
        else ""
    )
    reasons = (
        _count_table(
            [(f"{r.reason} ({r.stage})", r.count) for r in report.rejections],
            "reason (stage)",
            "rejections",
        )
        if report.rejections
        else ""
    )
    return (
        '<section id="items"><h2>Items by status</h2>'
        f'<div class="charts">{status_chart}{reason_chart}</div>{reasons}'
        f'<div class="charts">{http_chart}{drop_chart}</div>'
        '<p class="note">Rejections from <code>rejected_items</code> of this crawl; HTTP '
        "statuses (<code>downloader/response_status_count/*</code>) and spider drops "
        "(<code>drop_item/*</code>, never sent to Kafka) from the crawl stats.</p></section>"
    )


def _percent(value: float) -> str:
    percent = round(value * 100, 9)
    return "0%" if percent == 0 else f"{percent:+g}%"


def _changes(changes: PriceChanges, title: str, noun: str, note: str) -> str:
    counts = list(changes.counts.items())
    table = _count_table(counts, noun, f"{changes.subject}-changes")
    # Up, down and unchanged always; the rarer categories only when they occur.
    shown = [(label, n) for label, n in counts if n or label in (UP, DOWN, UNCHANGED)]
    bars = svg.bar_chart(
        shown,
        title=f"{title}: direction",
        x_label="change",
        y_label=noun,
    )
    spread = svg.histogram(
        changes.relative,
        title=f"{title}: relative change",
        x_label="relative change (prices that went up or down)",
        y_label=noun,
        x_format=_percent,
        empty="No price went up or down.",
    )
    return (
        f"<h3>{esc(title)}</h3>{table}"
        f'<div class="charts">{bars}{spread}</div><p class="note">{note}</p>'
    )


def _prices(report: RunReport) -> str:
    parts = []
    if report.products.total:
        parts.append(
            _changes(
                report.products,
                "Product prices",
                "products",
                "Per product of this crawl: its last price of the crawl against its observation "
                "before the crawl (<code>product_prices</code>). The normalizer records a price "
                "row only when price, currency or availability changed, so products of the "
                "crawl without a row (<code>products.last_crawl_id</code>) count as unchanged; "
                "so do rows where only the availability changed.",
            )
        )
    if report.quotes.total:
        parts.append(
            _changes(
                report.quotes,
                "Quotes",
                "quotes",
                "The quotes this crawl stored (<code>quotes.crawl_id</code>), by the change "
                "against the previous close that the source publishes "
                "(<code>change</code>, <code>change_pct</code>).",
            )
        )
    if not parts:
        parts.append(
            '<p class="no-data">This crawl stored no products or quotes, so there are no '
            "price changes to show.</p>"
        )
    return '<section id="prices"><h2>Price changes</h2>' + "".join(parts) + "</section>"


def _all_stats(report: RunReport) -> str:
    stats = report.run.stats
    if not stats:
        return ""
    rows = "".join(
        f'<tr><th scope="row"><code>{esc(name)}</code></th>'
        f'<td class="num">{esc(_count(stats[name]))}</td></tr>'
        for name in sorted(stats)
    )
    return (
        '<section id="stats"><h2>Crawl stats</h2>'
        f"<details><summary>all {len(stats):,} counters of <code>crawl_runs.stats</code>"
        f"</summary><table>{rows}</table></details></section>"
    )


def render(report: RunReport, *, generated_at: datetime | None = None) -> str:
    """The report page of ``report`` as a complete HTML document."""
    run = report.run
    generated = _when(generated_at or datetime.now(UTC))
    title = f"Crawl run {run.crawl_id}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        f"<title>{esc(title)} · Sluice</title><style>{CSS}</style></head>"
        "<body><main>"
        f"<header><h1>Crawl run <code>{esc(run.crawl_id)}</code></h1>"
        f'<p class="sub">spider {esc(run.spider or "—")} · {esc(run.status)} · '
        f"report generated {esc(generated)}</p></header>"
        f"{_summary(report)}{_progress(report)}{_items(report)}{_prices(report)}"
        f"{_all_stats(report)}"
        "<footer>Made by <code>sluice report</code> from PostgreSQL (read-only role).</footer>"
        "</main></body></html>\n"
    )
