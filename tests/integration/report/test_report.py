"""`sluice report` against the real PostgreSQL: the page shows the rows of the run.

Every row here carries a fresh tag (crawl ids, source, symbols, Kafka topic), so the figures
are exactly the planted ones whatever else the shared database holds.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from sluice.cli.main import cli
from sluice.report.svg import bin_values

pytestmark = pytest.mark.postgres

SCRIPT = "<script>alert('x')</script>"
T0 = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)


@dataclass
class Planted:
    """The tag of this module's rows and the ids of its runs."""

    tag: str

    @property
    def shop(self) -> str:
        return f"test-report-{self.tag}"

    @property
    def market(self) -> str:
        return f"test-report-{self.tag}-fin"

    @property
    def prev(self) -> str:
        return f"test-report-{self.tag}-prev"

    @property
    def later(self) -> str:
        return f"test-report-{self.tag}-later"

    @property
    def source(self) -> str:
        return f"test-report-{self.tag}.localhost"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def add_product(conn, p: Planted, sku: str, last_crawl: str, last_seen: datetime) -> int:
    return conn.execute(
        "INSERT INTO products (source, external_id, name, price, currency, url, first_seen_at, "
        "last_seen_at, last_crawl_id) VALUES (%s, %s, %s, 1, 'EUR', %s, %s, %s, %s) RETURNING id",
        (p.source, sku, sku, f"http://{p.source}/{sku}", at(-86_400), last_seen, last_crawl),
    ).fetchone()[0]


def add_price(conn, product: int, price: str, observed: datetime, crawl: str, avail="in_stock"):
    conn.execute(
        "INSERT INTO product_prices (product_id, price, currency, availability, observed_at, "
        "crawl_id) VALUES (%s, %s, 'EUR', %s, %s, %s)",
        (product, price, avail, observed, crawl),
    )


def add_run(conn, crawl_id: str, spider: str, airflow_run_id: str, **values) -> None:
    conn.execute(
        "INSERT INTO crawl_runs (crawl_id, spider, airflow_run_id, status, params, stats, "
        "started_at, finished_at, items_received, items_stored, items_rejected) "
        "VALUES (%(c)s, %(s)s, %(a)s, 'finished', %(params)s, %(stats)s, %(start)s, %(end)s, "
        "%(received)s, %(stored)s, %(rejected)s)",
        {
            "c": crawl_id,
            "s": spider,
            "a": airflow_run_id,
            "params": json.dumps(values.get("params", {})),
            "stats": json.dumps(values.get("stats", {})),
            "start": values.get("start", T0),
            "end": values.get("end", at(90)),
            "received": values.get("received", 0),
            "stored": values.get("stored", 0),
            "rejected": values.get("rejected", 0),
        },
    )


@pytest.fixture(scope="module")
def planted(writer) -> Iterator[Planted]:
    """A shop run: 3 prices up (one product since seen by a later crawl), 1 down,
    2 unchanged (one without a price row, one whose availability alone changed), 1 new
    product, 1 product lost to a later crawl, 3 rejections. A market run: 4 quotes."""
    p = Planted(uuid.uuid4().hex[:8])
    try:
        add_run(
            writer,
            p.shop,
            SCRIPT,
            f"manual__{p.tag}",
            params={"note": SCRIPT, "start_urls": ["http://127.0.0.1:8000/shop/"]},
            stats={
                "downloader/response_count": 12,
                "downloader/response_status_count/200": 10,
                "downloader/response_status_count/404": 2,
                "kafka/delivered": 11,
            },
            received=11,
            stored=8,
            rejected=3,
        )
        # (sku, price before the run, price in the run or None, newest crawl, availability)
        products = [
            ("up-1", "10", "11", p.shop, "in_stock"),
            ("up-2", "10", "12", p.shop, "in_stock"),
            ("up-3", "20", "25", p.later, "in_stock"),
            ("down-1", "10", "8", p.shop, "in_stock"),
            ("same-1", "10", None, p.shop, "in_stock"),
            ("same-2", "10", "10", p.shop, "out_of_stock"),
            ("new-1", None, "5", p.shop, "in_stock"),
            ("lost-1", "10", None, p.later, "in_stock"),
        ]
        for i, (sku, before, during, newest, availability) in enumerate(products):
            fetched = at(10 + 7 * i)
            seen = at(3600) if newest == p.later else fetched
            product = add_product(writer, p, sku, newest, seen)
            if before is not None:
                add_price(writer, product, before, at(-3600), p.prev)
            if during is not None:
                add_price(writer, product, during, fetched, p.shop, availability)
        for i, (stage, reason) in enumerate(
            [
                ("normalize", "invalid_item/price"),
                ("normalize", "invalid_item/price"),
                ("store", "storage/23514"),
            ]
        ):
            writer.execute(
                'INSERT INTO rejected_items (topic, partition, "offset", crawl_id, stage, '
                "reason) VALUES (%s, 0, %s, %s, %s, %s)",
                (p.shop, i, p.shop, stage, reason),
            )

        add_run(writer, p.market, "finance", f"manual__{p.tag}-fin", stored=4, received=4)
        for i, (change, change_pct) in enumerate(
            [("1.5", "1.50"), ("-2", "-2.00"), ("0", "0"), (None, None)]
        ):
            writer.execute(
                "INSERT INTO quotes (symbol, price, currency, change, change_pct, as_of, "
                "trade_date, source, crawl_id, fetched_at) "
                "VALUES (%s, 100, 'USD', %s, %s, %s, %s, %s, %s, %s)",
                (
                    f"R{p.tag.upper()}{i}",
                    change,
                    change_pct,
                    at(0),
                    T0.date(),
                    p.source,
                    p.market,
                    at(5 + i),
                ),
            )
        yield p
    finally:
        writer.execute("DELETE FROM products WHERE source = %s", (p.source,))
        writer.execute("DELETE FROM quotes WHERE source = %s", (p.source,))
        writer.execute("DELETE FROM rejected_items WHERE topic = %s", (p.shop,))
        writer.execute("DELETE FROM crawl_runs WHERE crawl_id LIKE %s", (f"test-report-{p.tag}%",))


def chart(page: str, title: str) -> str:
    match = re.search(rf'<svg [^>]*aria-label="{re.escape(title)}".*?</svg>', page)
    assert match, f"no chart {title!r}"
    return match.group(0)


def count_row(label: str, count: int) -> str:
    return f'<th scope="row">{label}</th><td class="num">{count}</td>'


def test_the_page_shows_the_rows_of_the_run(sluice_cli, planted, tmp_path):
    out = tmp_path / "shop.html"
    result = sluice_cli("report", planted.shop, "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    page = out.read_text(encoding="utf-8")

    # summary: escaped hostile spider and params, the run's counts and times
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert '<span id="items-received">11</span>' in page
    assert '<span id="items-stored">8</span>' in page
    assert '<span id="items-rejected">3</span>' in page
    assert "2001-02-03 04:05:06 UTC" in page and "1 min 30 s" in page
    assert "http://127.0.0.1:8000/shop/" in page

    # price changes against the observation before the run
    for label, count in (
        ("up", 3),
        ("down", 1),
        ("unchanged", 2),
        ("new product", 1),
        ("currency changed", 0),
    ):
        assert count_row(label, count) in page
    relative = [0.1, 0.2, 0.25, -0.2]
    spread = chart(page, "Product prices: relative change")
    assert spread.count('class="bar"') == len(bin_values(relative))
    assert sum(int(n) for n in re.findall(r": (\d+)</title></rect>", spread)) == 4

    # progress: the 7 items still traced to the run, one a fetch second, from the run's start
    progress = chart(page, "Items stored over time (cumulative)")
    vertices = re.search(r'points="([^"]*)"', progress).group(1).split()
    assert len(vertices) == 2 * (1 + 7) - 1
    assert re.search(r'<text class="value"[^>]*>7</text>', progress)
    assert "counted 8 items stored for this run; 1 of them were seen again" in page

    # items by status, rejections by reason, HTTP statuses from the stats
    assert chart(page, "Items by status").count('class="bar"') == 3
    assert count_row("invalid_item/price (normalize)", 2) in page
    assert count_row("storage/23514 (store)", 1) in page
    http = chart(page, "Responses by HTTP status")
    assert "<title>200: 10</title>" in http and "<title>404: 2</title>" in http

    assert not re.search(r"""(src|href)\s*=""", page, re.IGNORECASE)


def test_an_airflow_run_id_names_the_run_and_the_default_path_is_the_stack_dir(planted, tmp_path):
    # In-process, to keep the module fast: the command is the same one the CLI runs.
    result = CliRunner().invoke(
        cli, ["report", f"manual__{planted.tag}-fin"], env={"SLUICE_STACK_DIR": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    path = tmp_path / "reports" / f"{planted.market}.html"
    assert result.stdout.strip() == str(path)
    page = path.read_text(encoding="utf-8")
    for label, count in (("up", 1), ("down", 1), ("unchanged", 1), ("no change given", 1)):
        assert count_row(label, count) in page
    assert "Product prices" not in page
    assert "No item of this crawl was rejected." in page
    assert "The crawl stats hold no HTTP status counts." in page


def test_an_unknown_run_is_an_error_naming_it(sluice_cli, planted, tmp_path):
    missing = f"test-report-{planted.tag}-missing"
    result = sluice_cli("report", missing, "--output", str(tmp_path / "x.html"))
    assert result.returncode == 1
    assert f"no crawl run '{missing}'" in result.stderr
    assert not (tmp_path / "x.html").exists()
