"""The demo shop under ``/shop/``: home, listings, product pages and the crawl traps.

The traps are the ones real shops set: tracking parameters that put one product behind several
URLs, a dead product link, a robots-disallowed section, a page that fails once, a slow page, a
listing rendered by JavaScript, and product URLs whose slug is wrong.
"""

from __future__ import annotations

import logging
import re
import time
from decimal import Decimal

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    url_for,
)

from demo.catalog import Catalog, Product
from demo.web.markup import (
    AVAILABILITY_LABELS,
    AVAILABILITY_URLS,
    display_price,
    jsonld_document,
    script_json,
)
from demo.web.params import page_count, parse_page
from demo.web.state import catalog, state

logger = logging.getLogger(__name__)

bp = Blueprint("shop", __name__, url_prefix="/shop")

PER_PAGE = 24
API_PER_PAGE = 10
DISCONTINUED_PATH = "/shop/p/SKU-999999-discontinued"
# Which listing page carries which trap link: (category, page) -> (href, text).
TRAP_LINKS: dict[tuple[str, int], tuple[str, str]] = {
    ("laptops", 2): (DISCONTINUED_PATH, "Last season's bestseller (discontinued)"),
    ("kitchen", 1): ("/shop/private/", "Staff preview: products before launch"),
    ("audio", 1): ("/shop/flaky", "Clearance corner: last chance to buy"),
}
_PRODUCT_IDENT = re.compile(r"^(SKU-\d{6})(?:-(.*))?$")


@bp.context_processor
def _shop_context() -> dict[str, object]:
    shop = catalog()
    return {
        "site_name": "Sluice Demo Shop",
        "home_url": url_for("shop.home"),
        "nav_categories": [(slug, shop.category_title(slug)) for slug in shop.categories],
    }


def shown_price(shop: Catalog, product: Product) -> Decimal | None:
    """The product's price as the shop shows it today (a repriced product one unit dearer)."""
    price = shop.price_on(product, state().day)
    if price is not None and product.sku in state().repriced:
        price += 1
    return price


def _priced(shop: Catalog, products: list[Product]) -> list[tuple[Product, str]]:
    items = []
    for product in products:
        price = shown_price(shop, product)
        items.append(
            (
                product,
                "Price on request" if price is None else display_price(price, product.currency),
            )
        )
    return items


def _listing_url(category: str, page: int) -> str:
    # Page 1 is the bare category URL everywhere, so it is not reachable under two addresses.
    if page == 1:
        return url_for("shop.listing", category=category)
    return url_for("shop.listing", category=category, page=page)


@bp.get("/")
def home():
    """The shop's front page: one link per category listing."""
    shop = catalog()
    categories = [
        (slug, shop.category_title(slug), len(shop.listed(slug))) for slug in shop.categories
    ]
    total = sum(count for _, _, count in categories)
    return render_template("shop/home.html", title="Home", categories=categories, total=total)


@bp.get("/c/<category>")
def listing(category: str):
    """A category listing, 24 products a page; the JavaScript category gets an empty shell."""
    shop = catalog()
    if category not in shop.categories:
        abort(404, description=f"There is no category {category!r}.")
    title = shop.category_title(category)
    if category == Catalog.JS_CATEGORY:
        return render_template(
            "shop/js_listing.html",
            category_title=title,
            title=title,
            api_url=url_for("shop.api_listing", category=category, page=1),
        )
    products = shop.listed(category)
    page = parse_page(request.args.get("page"))
    pages = page_count(len(products), PER_PAGE)
    if page > pages:
        abort(404, description=f"{title} has {pages} pages.")
    start = (page - 1) * PER_PAGE
    on_page = products[start : start + PER_PAGE]
    # Newsletter links repeat two products of the page with tracking parameters.
    newsletter = [on_page[0], on_page[len(on_page) // 2]] if len(on_page) > 1 else on_page
    trap = TRAP_LINKS.get((category, page))
    return render_template(
        "shop/listing.html",
        category_title=title,
        page=page,
        pages=pages,
        first=start + 1,
        last=start + len(on_page),
        total=len(products),
        items=_priced(shop, on_page),
        newsletter=newsletter,
        extras=[trap] if trap else [],
        prev_url=_listing_url(category, page - 1) if page > 1 else None,
        next_url=_listing_url(category, page + 1) if page < pages else None,
    )


@bp.get("/api/c/<category>")
def api_listing(category: str):
    """The JSON the JavaScript listing pages through: product names and links, ``next`` page."""
    shop = catalog()
    if category != Catalog.JS_CATEGORY:
        abort(404, description=f"No listing API for category {category!r}.")
    products = shop.listed(category)
    page = parse_page(request.args.get("page"))
    pages = page_count(len(products), API_PER_PAGE)
    if page > pages:
        abort(404, description=f"The {category} listing has {pages} pages.")
    start = (page - 1) * API_PER_PAGE
    on_page = products[start : start + API_PER_PAGE]
    return jsonify(
        {
            "products": [
                {"sku": product.sku, "name": product.name, "url": product.path}
                for product in on_page
            ],
            "page": page,
            "next": (
                url_for("shop.api_listing", category=category, page=page + 1)
                if page < pages
                else None
            ),
        }
    )


@bp.get("/private/")
def private():
    """The robots-disallowed staff page, the only place that links the private products."""
    shop = catalog()
    return render_template(
        "shop/private.html", title="Staff preview", items=_priced(shop, shop.private_products())
    )


@bp.get("/flaky")
def flaky():
    """A page that answers 500 on its first request in the app's lifetime, 200 afterwards."""
    if state().flaky_should_fail():
        logger.info("flaky page: failing its first request on purpose")
        return (
            render_template(
                "error.html",
                code=500,
                title="Internal Server Error",
                message="Something went wrong. Please try again.",
            ),
            500,
        )
    product = catalog().by_sku(Catalog.FLAKY_LINKED_SKU)
    return render_template("shop/flaky.html", title="Clearance", product=product)


@bp.get("/p/<ident>")
def product_page(ident: str):
    """A product page; any slug after the sku serves it, the canonical link names the right one."""
    shop = catalog()
    match = _PRODUCT_IDENT.match(ident)
    product = shop.by_sku(match.group(1)) if match else None
    if product is None:
        abort(404, description="This product does not exist (any more).")
    if product.sku == Catalog.SLOW_SKU:
        # Stands in for a slow backend, so crawlers' timeouts and concurrency get exercised.
        time.sleep(float(current_app.config["SLOW_SECONDS"]))
    price = shown_price(shop, product)
    root = request.host_url.rstrip("/")
    canonical = root + product.path
    image_url = root + product.image
    category_title = shop.category_title(product.category)
    jsonld = None
    if product.markup.startswith("json-ld"):
        jsonld = script_json(
            jsonld_document(
                product,
                price,
                canonical=canonical,
                image_url=image_url,
                shop_url=url_for("shop.home", _external=True),
                category_url=url_for("shop.listing", category=product.category, _external=True),
                category_title=category_title,
            )
        )
    return render_template(
        "shop/product.html",
        product=product,
        price=None if price is None else format(price, "f"),
        display_price=None if price is None else display_price(price, product.currency),
        availability_url=AVAILABILITY_URLS[product.availability],
        availability_label=AVAILABILITY_LABELS[product.availability],
        canonical=canonical,
        image_url=image_url,
        category_title=category_title,
        jsonld=jsonld,
    )


@bp.get("/img/<sku>.svg")
def image(sku: str):
    """A generated placeholder picture for a product, so image URLs resolve."""
    product = catalog().by_sku(sku)
    if product is None:
        abort(404)
    hue = int(product.sku[-3:]) * 37 % 360
    initials = "".join(word[0] for word in product.brand.split()[:2]).upper()
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240">'
        f'<rect width="320" height="240" fill="hsl({hue},45%,82%)"/>'
        f'<text x="160" y="140" font-family="sans-serif" font-size="64" text-anchor="middle" '
        f'fill="hsl({hue},45%,30%)">{initials}</text></svg>'
    )
    return Response(svg, mimetype="image/svg+xml")
