"""Products and their price history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from api.listing import PageStatement, fetch, page_query
from api.schemas import PRODUCT_SORTS
from api.tables import product_prices, products

COLUMNS = [c for c in products.c if c.name != "last_crawl_id"]


def filtered(filters: dict[str, Any]) -> Select:
    """``SELECT`` of products matching the filters of :class:`api.schemas.ProductQuery`."""
    query = select(*COLUMNS)
    for name in ("source", "category", "brand", "availability"):
        if filters.get(name) is not None:
            query = query.where(products.c[name] == filters[name])
    if filters.get("min_price") is not None:
        query = query.where(products.c.price >= filters["min_price"])
    if filters.get("max_price") is not None:
        query = query.where(products.c.price <= filters["max_price"])
    if filters.get("q"):
        # ILIKE with the text's wildcards escaped; the trigram index serves it.
        pattern = filters["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(products.c.name.ilike(f"%{pattern}%", escape="\\"))
    if filters.get("updated_since") is not None:
        query = query.where(products.c.updated_at >= filters["updated_since"])
    return query


def products_page(filters: dict[str, Any]) -> PageStatement:
    """The ``SELECT`` of one page of the products listing (what :func:`list_products` runs)."""
    return page_query(filtered(filters), products.c.id, PRODUCT_SORTS, filters)


def list_products(conn: Connection, filters: dict[str, Any]) -> tuple[list[dict], str | None]:
    """One page of products."""
    return fetch(conn, products_page(filters))


def get_product(conn: Connection, product_id: int) -> dict | None:
    """One product, or None."""
    row = conn.execute(select(*COLUMNS).where(products.c.id == product_id)).mappings().first()
    return dict(row) if row else None


def prices_page(product_id: int, filters: dict[str, Any]) -> PageStatement:
    """The ``SELECT`` of one page of a product's price history (what :func:`list_prices`
    runs)."""
    query = select(product_prices).where(product_prices.c.product_id == product_id)
    return page_query(query, product_prices.c.id, {"id": "int"}, filters)


def list_prices(
    conn: Connection, product_id: int, filters: dict[str, Any]
) -> tuple[list[dict], str | None]:
    """A product's price history, oldest first."""
    return fetch(conn, prices_page(product_id, filters))
