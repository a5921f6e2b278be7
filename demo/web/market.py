"""The demo market under ``/market/``: an overview, an HTML quotes table and a JSON quotes API."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, jsonify, render_template, request, url_for

from demo.web.params import page_count, parse_day, parse_page
from demo.web.state import market, state

bp = Blueprint("market", __name__, url_prefix="/market")

PER_PAGE = 25
OVERVIEW_DAYS = 7


@bp.context_processor
def _market_context() -> dict[str, object]:
    return {"site_name": "Sluice Demo Market", "home_url": url_for("market.index")}


def _page_of_quotes(endpoint: str):
    """The day, page number, page count, quotes on the page and next/prev URLs of a request."""
    raw_day = request.args.get("date")
    day = state().day if raw_day is None else parse_day("date", raw_day)
    page = parse_page(request.args.get("page"))
    quotes = market().quotes_on(day)
    pages = page_count(len(quotes), PER_PAGE)
    if page > pages:
        abort(404, description=f"Quotes for {day.isoformat()} have {pages} pages.")
    start = (page - 1) * PER_PAGE
    # Links carry the resolved date, so a crawl that started on one day stays on it even when
    # the app's current day is switched mid-crawl.
    next_url = url_for(endpoint, date=day.isoformat(), page=page + 1) if page < pages else None
    prev_url = url_for(endpoint, date=day.isoformat(), page=page - 1) if page > 1 else None
    return day, page, pages, quotes[start : start + PER_PAGE], next_url, prev_url


@bp.get("/")
def index():
    """The market's front page: links to the last week's quote tables."""
    today = state().day
    days = [today - timedelta(days=back) for back in range(OVERVIEW_DAYS)]
    return render_template(
        "market/index.html",
        title="Overview",
        days=days,
        symbol_count=len(market().symbols),
    )


@bp.get("/quotes")
def quotes():
    """One day's closing quotes as an HTML table, 25 symbols a page."""
    day, page, pages, on_page, next_url, prev_url = _page_of_quotes("market.quotes")
    return render_template(
        "market/quotes.html",
        title=f"Quotes {day.isoformat()}",
        day=day,
        page=page,
        pages=pages,
        quotes=on_page,
        as_of=on_page[0]["as_of"] if on_page else None,
        next_url=next_url,
        prev_url=prev_url,
    )


@bp.get("/api/quotes")
def api_quotes():
    """One day's closing quotes as JSON, 25 symbols a page, with the next page's URL."""
    day, page, _, on_page, next_url, _ = _page_of_quotes("market.api_quotes")
    return jsonify({"date": day.isoformat(), "page": page, "next": next_url, "quotes": on_page})
