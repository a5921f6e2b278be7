"""The report page: every value escaped, nothing loaded from elsewhere, messages for no data."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from sluice.report import html, report_filename, report_hint
from sluice.report.data import (
    CrawlRun,
    PriceChanges,
    ProgressPoint,
    ReasonCount,
    RunReport,
    classify_product_prices,
    classify_quotes,
)

SCRIPT = "<script>alert('x')</script>"
T0 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
#: what may appear in the page: markup of our own, never a way to load or run anything
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "h1", "h2", "h3", "p",
    "section", "table", "thead", "tbody", "tr", "th", "td", "code", "pre", "span", "div",
    "details", "summary", "footer", "svg", "text", "line", "rect", "polyline", "circle",
}  # fmt: skip


class Tags(HTMLParser):
    """Every start tag and attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(page)
    parser.close()
    return parser.tags


def run(**changes) -> CrawlRun:
    fields = {
        "crawl_id": "ecommerce-20261123-abc",
        "spider": "ecommerce",
        "airflow_run_id": "scheduled__2026-11-23T06:00:00+00:00",
        "status": "finished",
        "params": {"start_urls": ["http://127.0.0.1:8000/shop/"], "workers": 2},
        "stats": {
            "downloader/response_count": 14,
            "downloader/response_status_count/200": 12,
            "downloader/response_status_count/404": 2,
            "kafka/delivered": 12,
            "drop_item/ecommerce/no_price": 1,
        },
        "started_at": T0,
        "finished_at": T0 + timedelta(minutes=3, seconds=5),
        "items_received": 12,
        "items_stored": 9,
        "items_rejected": 3,
        "updated_at": T0 + timedelta(minutes=3, seconds=5),
    }
    return CrawlRun(**{**fields, **changes})


def report(**changes) -> RunReport:
    fields = {
        "run": run(),
        "progress": [
            ProgressPoint(T0 + timedelta(seconds=10), 4),
            ProgressPoint(T0 + timedelta(seconds=20), 9),
        ],
        "rejections": [
            ReasonCount("normalize", "invalid_item/price", 2),
            ReasonCount("store", "storage/23514", 1),
        ],
        "products": PriceChanges(
            "products",
            {"up": 3, "down": 1, "unchanged": 2, "new product": 1, "currency changed": 0},
            [0.1, 0.2, 0.25, -0.2],
        ),
        "quotes": PriceChanges("quotes", {"up": 0, "down": 0, "unchanged": 0}),
    }
    return RunReport(**{**fields, **changes})


def empty_report() -> RunReport:
    return RunReport(
        run=run(stats={}, items_received=0, items_stored=0, items_rejected=0, finished_at=None),
        progress=[],
        rejections=[],
        products=PriceChanges("products", {"up": 0, "down": 0, "unchanged": 0}),
        quotes=PriceChanges("quotes", {"up": 0, "down": 0, "unchanged": 0}),
    )


def hostile_report() -> RunReport:
    return report(
        run=run(
            crawl_id=f'run-"{SCRIPT}',
            spider=SCRIPT,
            airflow_run_id=SCRIPT,
            status="finished",
            params={SCRIPT: '<img src="https://evil.example/x.png" onerror="alert(1)">'},
            stats={
                f"downloader/response_status_count/{SCRIPT}": 1,
                f"drop_item/x/{SCRIPT}": 2,
                SCRIPT: SCRIPT,
            },
        ),
        rejections=[ReasonCount(SCRIPT, '<a href="http://evil.example">x</a>', 1)],
    )


def svg_of(page: str, title: str) -> str:
    match = re.search(rf'<svg [^>]*aria-label="{re.escape(title)}".*?</svg>', page)
    assert match, f"no chart {title!r}"
    return match.group(0)


def test_hostile_values_are_shown_as_text_never_as_markup():
    page = html.render(hostile_report(), generated_at=T0)
    assert "<script" not in page.lower()
    assert "<img" not in page.lower() and "<a " not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "run-&quot;&lt;script&gt;" in page
    tags = parse(page)
    assert {tag for tag, _ in tags} <= ALLOWED_TAGS
    assert not [attrs for _, attrs in tags if any(a.startswith("on") for a in attrs)]


@pytest.mark.parametrize("make", [report, hostile_report, empty_report])
def test_the_page_is_self_contained(make):
    page = html.render(make(), generated_at=T0)
    tags = parse(page)
    assert not [a for _, a in tags if "src" in a or "href" in a or "xlink:href" in a]
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?://""", page, re.IGNORECASE)
    assert {tag for tag, _ in tags} <= ALLOWED_TAGS  # no script, link, img, iframe, object
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    assert "url(" not in style and "@import" not in style and "@font-face" not in style
    csp = [a["content"] for t, a in tags if t == "meta" and a.get("http-equiv")]
    assert csp == ["default-src 'none'; style-src 'unsafe-inline'"]


def test_summary_numbers_and_charts():
    page = html.render(report(), generated_at=T0)
    assert '<span id="items-received">12</span>' in page
    assert '<span id="items-stored">9</span>' in page
    assert '<span id="items-rejected">3</span>' in page
    assert "3 min 05 s" in page
    assert "2026-11-23 06:00:00 UTC" in page
    assert "http://127.0.0.1:8000/shop/" in page  # parameters are shown, as text
    assert '<th scope="row"><code>downloader/response_count</code></th>' in page
    for label, count in (("up", 3), ("down", 1), ("unchanged", 2), ("new product", 1)):
        assert f'<th scope="row">{label}</th><td class="num">{count}</td>' in page
    assert '<th scope="row">invalid_item/price (normalize)</th><td class="num">2</td>' in page

    status = svg_of(page, "Items by status")
    assert status.count('class="bar"') == 3
    assert svg_of(page, "Responses by HTTP status").count('class="bar"') == 2
    assert "<title>404: 2</title>" in svg_of(page, "Responses by HTTP status")
    assert svg_of(page, "Rejected items by reason (stage)").count('class="bar"') == 2
    assert svg_of(page, "Items dropped by the spider, by reason").count('class="bar"') == 1
    # up, down, unchanged and the one non-zero extra category; currency changed is 0
    assert svg_of(page, "Product prices: direction").count('class="bar"') == 4
    assert svg_of(page, "Product prices: relative change").count('class="bar"') >= 2
    progress = svg_of(page, "Items stored over time (cumulative)")
    vertices = re.search(r'<polyline [^>]*points="([^"]*)"', progress).group(1).split()
    assert len(vertices) == 5  # the run's start at 0, then two steps of two corners
    # no quotes: no quote section
    assert "Quotes: direction" not in page


def test_items_no_longer_traced_to_the_run_are_explained():
    page = html.render(report(run=run(items_stored=11)), generated_at=T0)
    assert "counted 11 items stored for this run; 2 of them were seen again" in page
    assert 'id="untraced"' not in html.render(report(), generated_at=T0)


def test_no_data_gives_messages_instead_of_charts():
    page = html.render(empty_report(), generated_at=T0)
    assert "No stored item can be traced to this crawl: nothing to plot." in page
    assert "No item of this crawl was rejected." in page
    assert "The crawl stats hold no HTTP status counts." in page
    assert "This crawl stored no products or quotes, so there are no price changes" in page
    assert "The run has no crawl stats (yet)" in page
    assert "<polyline" not in page
    assert "Items dropped by the spider" not in page
    assert "Crawl stats</h2>" not in page
    assert '<th scope="row">duration</th><td>—</td>' in page


def test_quotes_section():
    quotes = classify_quotes(
        [
            (Decimal("101.5"), Decimal("1.5"), Decimal("1.50")),
            (Decimal("99"), Decimal("-1"), Decimal("-1.00")),
            (Decimal("50"), Decimal("0"), Decimal("0")),
            (Decimal("10"), None, None),
        ]
    )
    page = html.render(
        report(products=PriceChanges("products", {"up": 0}), quotes=quotes), generated_at=T0
    )
    assert "Product prices" not in page
    assert '<th scope="row">up</th><td class="num">1</td>' in page
    assert '<th scope="row">no change given</th><td class="num">1</td>' in page
    assert svg_of(page, "Quotes: relative change").count('class="bar"') >= 2


def test_durations():
    assert html.duration_text(None) == "—"
    assert html.duration_text(timedelta(seconds=12.34)) == "12.3 s"
    assert html.duration_text(timedelta(minutes=3, seconds=5)) == "3 min 05 s"
    assert html.duration_text(timedelta(hours=1, minutes=2, seconds=5)) == "1 h 02 min 05 s"


def test_price_changes_are_classified_against_the_previous_observation():
    eur, usd = "EUR", "USD"
    changes = classify_product_prices(
        [
            (Decimal("11"), eur, Decimal("10"), eur),
            (Decimal("8"), eur, Decimal("10"), eur),
            (Decimal("10"), eur, Decimal("10"), eur),  # only availability changed
            (Decimal("5"), eur, None, None),
            (Decimal("5"), usd, Decimal("5"), eur),
        ],
        unchanged_without_row=4,
    )
    assert changes.counts == {
        "up": 1,
        "down": 1,
        "unchanged": 5,
        "new product": 1,
        "currency changed": 1,
    }
    assert changes.relative == pytest.approx([0.1, -0.2])
    assert changes.total == 9


def test_report_hint_is_a_shell_command_line():
    assert report_hint("ecommerce-20261123-abcdef12") == "sluice report ecommerce-20261123-abcdef12"
    assert report_hint("a b'c") == "sluice report 'a b'\"'\"'c'"


def test_report_filenames_stay_in_their_directory():
    assert report_filename("ecommerce-20261123T121347Z-462a37") == (
        "ecommerce-20261123T121347Z-462a37.html"
    )
    assert report_filename("../../etc/passwd") == "_.._etc_passwd.html"
    assert "/" not in report_filename("a/b\\c") and report_filename("") == "_.html"
