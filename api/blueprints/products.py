"""``/api/v1/products``: list, one product, its price history, CSV export."""

from __future__ import annotations

from flask import Response
from flask.views import MethodView

from api.blueprints.common import csv_stream, data_blueprint, stores, stream_rows
from api.cache import cached
from api.errors import ApiError
from api.schemas import PageQuery, PricePage, Product, ProductExportQuery, ProductPage, ProductQuery
from api.services import products as service

#: ids are PostgreSQL bigints: a larger number names no product
MAX_ID = 2**63 - 1


def _known_id(product_id: int) -> None:
    if product_id > MAX_ID:
        raise ApiError(404, "not_found", f"no product {product_id}")


blp = data_blueprint("products", __name__, "/api/v1/products", "Products and price history.")


@blp.route("")
class Products(MethodView):
    """Products, filtered and sorted, a page at a time."""

    @cached(blp, ProductPage, "products")
    @blp.arguments(ProductQuery, location="query", as_kwargs=True)
    def get(self, **filters) -> dict:
        """List products (keyset pagination: follow `next`)."""
        with stores().engine.connect() as conn:
            rows, following = service.list_products(conn, filters)
        return {"items": rows, "next": following}


@blp.route("/export.csv")
class ProductsCsv(MethodView):
    """Every product matching the filters, as CSV."""

    @blp.arguments(ProductExportQuery, location="query", as_kwargs=True)
    @blp.response(200, content_type="text/csv")
    def get(self, **filters) -> Response:
        """Stream products as CSV (same filters as the listing, no paging)."""
        query = service.filtered(filters).order_by(service.products.c.id)
        return csv_stream("products.csv", [c.name for c in service.COLUMNS], stream_rows(query))


@blp.route("/<int:product_id>")
class OneProduct(MethodView):
    """One product."""

    @cached(blp, Product, "products")
    def get(self, product_id: int) -> dict:
        """A product by id."""
        _known_id(product_id)
        with stores().engine.connect() as conn:
            row = service.get_product(conn, product_id)
        if row is None:
            raise ApiError(404, "not_found", f"no product {product_id}")
        return row


@blp.route("/<int:product_id>/prices")
class ProductPrices(MethodView):
    """A product's price and availability history."""

    @cached(blp, PricePage, "products")
    @blp.arguments(PageQuery, location="query", as_kwargs=True)
    def get(self, product_id: int, **filters) -> dict:
        """Price changes of a product, oldest first."""
        _known_id(product_id)
        with stores().engine.connect() as conn:
            if service.get_product(conn, product_id) is None:
                raise ApiError(404, "not_found", f"no product {product_id}")
            rows, following = service.list_prices(conn, product_id, filters)
        return {"items": rows, "next": following}
