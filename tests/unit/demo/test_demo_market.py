"""The demo market: deterministic quotes for any date, as an HTML table and as JSON."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from demo.market import Market


def test_quotes_for_any_date_are_deterministic_and_consistent(day):
    market = Market(seed=7)
    quotes = market.quotes_on(day)
    assert 45 <= len(quotes) <= 60
    assert len({q["symbol"] for q in quotes}) == len(quotes)
    assert Market(seed=7).quotes_on(day) == quotes
    assert Market(seed=8).quotes_on(day) != quotes
    previous = {q["symbol"]: q for q in market.quotes_on(day - timedelta(days=1))}
    for quote in quotes:
        assert quote["exchange"] in {"NYSE", "NASDAQ"}
        assert quote["currency"] == "USD"
        assert quote["as_of"] == "2026-03-02T21:00:00Z"
        assert quote["trade_date"] == "2026-03-02"
        assert isinstance(quote["volume"], int) and quote["volume"] > 0
        price = Decimal(quote["price"])
        before = Decimal(previous[quote["symbol"]]["price"])
        assert price > 0 and price.as_tuple().exponent == -2
        assert Decimal(quote["change"]) == price - before
        pct = (Decimal(quote["change"]) / before * 100).quantize(Decimal("0.01"))
        assert Decimal(quote["change_pct"]) == pct
    assert any(q["change"] != "0.00" for q in quotes)
    assert market.quotes_on(date(1999, 12, 31))  # any date, however far back


def _has_class(name: str) -> str:
    # Token match: "change" must not match the "exchange" cell.
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def _table_rows(page, url):
    html = page(url)
    rows = html.xpath('//table[@class="quotes"]/tbody/tr')
    cells = ("symbol", "name", "exchange", "price", "currency", "change", "change-pct", "volume")
    parsed = [
        {cell: row.xpath(f"string(td[{_has_class(cell)}])").strip() for cell in cells}
        for row in rows
    ]
    assert [row.get("data-symbol") for row in rows] == [p["symbol"] for p in parsed]
    next_links = html.xpath('//a[@rel="next"]/@href')
    return parsed, next_links[0] if next_links else None


def test_html_table_pages_through_every_symbol_and_agrees_with_json(client, page):
    url = "/market/quotes?date=2026-01-15"
    rows = []
    pages = 0
    while url:
        page_rows, url = _table_rows(page, url)
        assert len(page_rows) <= 25
        rows += page_rows
        pages += 1
        if url:
            assert "date=2026-01-15" in url
    assert pages == 2

    quotes = []
    api = "/market/api/quotes?date=2026-01-15"
    while api:
        body = client.get(api).get_json()
        assert body["date"] == "2026-01-15"
        quotes += body["quotes"]
        api = body["next"]
    assert quotes == Market(seed=7).quotes_on(date(2026, 1, 15))
    assert [
        {
            "symbol": q["symbol"],
            "name": q["name"],
            "exchange": q["exchange"],
            "price": q["price"],
            "currency": q["currency"],
            "change": q["change"],
            "change-pct": q["change_pct"],
            "volume": str(q["volume"]),
        }
        for q in quotes
    ] == rows


def test_missing_date_means_the_current_day(client, page, day):
    body = client.get("/market/api/quotes").get_json()
    assert body["date"] == day.isoformat()
    assert body["page"] == 1
    assert body["next"] == "/market/api/quotes?date=2026-03-02&page=2"
    html = page("/market/quotes")
    assert html.xpath('//table[@class="quotes"]/@data-date') == ["2026-03-02"]


def test_bad_date_or_page_is_a_400_naming_the_parameter(client):
    for url in ("/market/quotes?date=yesterday", "/market/quotes?date=2026-02-30"):
        response = client.get(url)
        assert response.status_code == 400
        assert "date" in response.get_data(as_text=True)
    response = client.get("/market/api/quotes?date=2026-13-01")
    assert response.status_code == 400
    assert "'date'" in response.get_json()["error"]
    response = client.get("/market/api/quotes?page=zero")
    assert response.status_code == 400
    assert "'page'" in response.get_json()["error"]
    assert client.get("/market/api/quotes?page=9").status_code == 404


def test_market_index_links_quote_pages(page):
    links = page("/market/").xpath('//a[@class="quotes-link"]/@href')
    assert links[0] == "/market/quotes?date=2026-03-02"
    assert len(links) == 7
