"""The Jinja templates of both sites, kept in Python so the package needs no data files.

Names end in ``.html`` so Jinja autoescapes them. Class names on elements are part of what the
spiders and tests read (``product-link``, ``price``, ``quotes``, ...), so change them with care.
"""

from __future__ import annotations

from jinja2 import DictLoader

_BASE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{{ title }}{% endblock %} · {{ site_name }}</title>
{% block head %}{% endblock %}
<style>
body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#1d2430;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:.8rem 1.5rem}
header a{color:#fff;text-decoration:none}
header .brand{font-weight:700;font-size:1.2rem;margin-right:1.5rem}
nav.site a{margin-right:1rem;font-size:.95rem;opacity:.9}
main{max-width:1080px;margin:1.5rem auto;padding:0 1.5rem}
footer{color:#6b7380;font-size:.85rem;text-align:center;padding:2rem 1rem}
a{color:#1f5fa8}
ul.products{list-style:none;padding:0;display:grid;
grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:1rem}
.product-card{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:.8rem}
.product-card img{width:100%;height:auto}
.price{font-weight:700}
.notice{background:#fff8e1;border:1px solid #f0d58c;padding:.6rem .9rem;border-radius:6px}
.pagination{margin:1.5rem 0}
.pagination a{margin:0 .5rem}
table.quotes{border-collapse:collapse;width:100%;background:#fff}
table.quotes th,table.quotes td{border-bottom:1px solid #e1e4e8;padding:.35rem .6rem;
text-align:left}
td.up{color:#1a7f37}td.down{color:#c62828}
.product-detail{display:grid;grid-template-columns:320px 1fr;gap:2rem;background:#fff;
padding:1.5rem;border-radius:6px}
.breadcrumbs{font-size:.9rem;margin-bottom:1rem}
</style>
</head>
<body>
<header>
<a class="brand" href="{{ home_url }}">{{ site_name }}</a>
<nav class="site">{% block nav %}{% endblock %}</nav>
</header>
<main>
{% block content %}{% endblock %}
</main>
<footer>{{ site_name }} is a generated demo site for the Sluice crawlers.
Prices and quotes are made up. Showing {{ current_day.isoformat() }}.</footer>
</body>
</html>
"""

_SHOP_BASE = """{% extends "base.html" %}
{% block nav %}{% for slug, name in nav_categories %}<a href="{{ url_for('shop.listing',
 category=slug) }}">{{ name }}</a>{% endfor %}{% endblock %}
"""

_SHOP_HOME = """{% extends "shop/base.html" %}
{% block content %}
<h1>Welcome to the demo shop</h1>
<p>Browse {{ total }} products in {{ categories|length }} departments.</p>
<ul class="categories">
{% for slug, name, count in categories %}
<li><a class="category-link" href="{{ url_for('shop.listing', category=slug) }}">{{ name }}</a>
 ({{ count }} products)</li>
{% endfor %}
</ul>
{% endblock %}
"""

_PRODUCT_CARD = """{% macro card(product, price) %}
<li class="product-card" data-sku="{{ product.sku }}">
<a class="product-image" href="{{ product.path }}?ref=listing"><img
 src="{{ product.image }}" alt="{{ product.name }}" width="200" height="150"></a>
<a class="product-link" href="{{ product.path }}">{{ product.name }}</a>
<div class="brand">{{ product.brand }}</div>
<div class="price">{{ price }}</div>
</li>
{% endmacro %}
"""

_SHOP_LISTING = """{% extends "shop/base.html" %}
{% from "shop/card.html" import card %}
{% block title %}{{ category_title }} &ndash; page {{ page }}{% endblock %}
{% block content %}
<h1>{{ category_title }}</h1>
<p>Showing {{ first }}&ndash;{{ last }} of {{ total }} products.</p>
{% if newsletter %}
<aside class="notice newsletter">As seen in our newsletter:
{% for product in newsletter %}<a class="promo-link"
 href="{{ product.path }}?utm_source=newsletter&amp;utm_medium=email">{{ product.name }}</a>{%
 if not loop.last %}, {% endif %}{% endfor %}</aside>
{% endif %}
<ul class="products">
{% for product, price in items %}{{ card(product, price) }}{% endfor %}
</ul>
<nav class="pagination">
{% if prev_url %}<a rel="prev" href="{{ prev_url }}">&lsaquo; Previous</a>{% endif %}
<span>Page {{ page }} of {{ pages }}</span>
{% if next_url %}<a rel="next" href="{{ next_url }}">Next &rsaquo;</a>{% endif %}
</nav>
{% if extras %}
<aside class="notice extras">
{% for href, text in extras %}<p><a href="{{ href }}">{{ text }}</a></p>{% endfor %}
</aside>
{% endif %}
{% endblock %}
"""

_SHOP_JS_LISTING = """{% extends "shop/base.html" %}
{% block title %}{{ category_title }}{% endblock %}
{% block content %}
<h1>{{ category_title }}</h1>
<p id="status">Loading products…</p>
<noscript><p class="notice">This department needs JavaScript to show its products.</p></noscript>
<ul class="products" id="product-list"></ul>
<script>
(function () {
  "use strict";
  var list = document.getElementById("product-list");
  var status = document.getElementById("status");
  var shown = 0;
  function load(url) {
    return fetch(url, {headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        data.products.forEach(function (product) {
          var item = document.createElement("li");
          item.className = "product-card";
          var link = document.createElement("a");
          link.className = "product-link";
          link.href = product.url;
          link.textContent = product.name;
          item.appendChild(link);
          list.appendChild(item);
          shown += 1;
        });
        return data.next ? load(data.next) : null;
      });
  }
  load({{ api_url|tojson }})
    .then(function () { status.textContent = shown + " products"; })
    .catch(function (error) { status.textContent = "Could not load products: " + error; });
})();
</script>
{% endblock %}
"""

_SHOP_PRIVATE = """{% extends "shop/base.html" %}
{% from "shop/card.html" import card %}
{% block head %}<meta name="robots" content="noindex, nofollow">{% endblock %}
{% block content %}
<h1>Staff preview</h1>
<p class="notice">Pre-release products for staff. Not for search engines or crawlers.</p>
<ul class="products">
{% for product, price in items %}{{ card(product, price) }}{% endfor %}
</ul>
{% endblock %}
"""

_SHOP_FLAKY = """{% extends "shop/base.html" %}
{% block content %}
<h1>Clearance corner</h1>
<p>Last chance to buy:
<a class="product-link" href="{{ product.path }}">{{ product.name }}</a></p>
{% endblock %}
"""

_SHOP_PRODUCT = """{% extends "shop/base.html" %}
{% block title %}{{ product.name }}{% endblock %}
{% block head %}<link rel="canonical" href="{{ canonical }}">
{% if jsonld %}<script type="application/ld+json">{{ jsonld }}</script>{% endif %}
{% endblock %}
{% block content %}
<nav class="breadcrumbs"><a href="{{ url_for('shop.home') }}">Shop</a> &rsaquo;
<a href="{{ url_for('shop.listing', category=product.category) }}">{{ category_title }}</a> &rsaquo;
<span>{{ product.name }}</span></nav>
{% if product.markup == "microdata" %}{% include "shop/product_microdata.html" %}
{% elif product.markup == "rdfa" %}{% include "shop/product_rdfa.html" %}
{% else %}{% include "shop/product_plain.html" %}{% endif %}
{% endblock %}
"""

# The visible page of a JSON-LD product: the data lives in the script, the HTML only shows it.
_PRODUCT_PLAIN = """<article class="product-detail" data-sku="{{ product.sku }}">
<img src="{{ image_url }}" alt="{{ product.name }}" width="320" height="240">
<div>
<h1 class="product-name">{{ product.name }}</h1>
<p class="brand">by {{ product.brand }}</p>
<p class="sku">Item {{ product.sku }}</p>
{% if product.rating is not none %}<p class="rating">Rated {{ product.rating }} out of 5
 ({{ product.review_count }} reviews)</p>{% endif %}
{% if price %}<p class="price">{{ display_price }}</p>
<p class="availability">{{ availability_label }}</p>
{% else %}<p class="price-on-request">Price on request</p>{% endif %}
</div>
</article>
"""

_PRODUCT_MICRODATA = """<article class="product-detail" data-sku="{{ product.sku }}"
 itemscope itemtype="https://schema.org/Product">
<img itemprop="image" src="{{ image_url }}" alt="{{ product.name }}" width="320" height="240">
<div>
<h1 class="product-name" itemprop="name">{{ product.name }}</h1>
<p class="brand" itemprop="brand" itemscope itemtype="https://schema.org/Brand">by
 <span itemprop="name">{{ product.brand }}</span></p>
<p class="sku">Item <span itemprop="sku">{{ product.sku }}</span></p>
<meta itemprop="category" content="{{ product.category }}">
<link itemprop="url" href="{{ canonical }}">
{% if product.rating is not none %}<p class="rating" itemprop="aggregateRating" itemscope
 itemtype="https://schema.org/AggregateRating">Rated <span itemprop="ratingValue">{{
 product.rating }}</span> out of 5 (<span itemprop="reviewCount">{{ product.review_count
 }}</span> reviews)</p>{% endif %}
{% if price %}<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
<p class="price"><meta itemprop="priceCurrency" content="{{ product.currency }}"><span
 itemprop="price" content="{{ price }}">{{ display_price }}</span></p>
<p class="availability"><link itemprop="availability" href="{{ availability_url }}">{{
 availability_label }}</p>
<link itemprop="url" href="{{ canonical }}">
</div>
{% else %}<p class="price-on-request">Price on request</p>{% endif %}
</div>
</article>
"""

_PRODUCT_RDFA = """<article class="product-detail" data-sku="{{ product.sku }}"
 vocab="https://schema.org/" typeof="Product">
<img property="image" src="{{ image_url }}" alt="{{ product.name }}" width="320" height="240">
<div>
<h1 class="product-name" property="name">{{ product.name }}</h1>
<p class="brand" property="brand" typeof="Brand">by <span property="name">{{ product.brand
 }}</span></p>
<p class="sku">Item <span property="sku">{{ product.sku }}</span></p>
<meta property="category" content="{{ product.category }}">
<link property="url" href="{{ canonical }}">
{% if product.rating is not none %}<p class="rating" property="aggregateRating"
 typeof="AggregateRating">Rated <span property="ratingValue">{{ product.rating }}</span> out of
 5 (<span property="reviewCount">{{ product.review_count }}</span> reviews)</p>{% endif %}
{% if price %}<div property="offers" typeof="Offer">
<p class="price"><meta property="priceCurrency" content="{{ product.currency }}"><span
 property="price" content="{{ price }}">{{ display_price }}</span></p>
<p class="availability"><link property="availability" href="{{ availability_url }}">{{
 availability_label }}</p>
<link property="url" href="{{ canonical }}">
</div>
{% else %}<p class="price-on-request">Price on request</p>{% endif %}
</div>
</article>
"""

_MARKET_BASE = """{% extends "base.html" %}
{% block nav %}<a href="{{ url_for('market.index') }}">Overview</a>
<a href="{{ url_for('market.quotes') }}">Quotes</a>{% endblock %}
"""

_MARKET_INDEX = """{% extends "market/base.html" %}
{% block content %}
<h1>Market overview</h1>
<p>End-of-day quotes for {{ symbol_count }} listed companies on NYSE and NASDAQ.</p>
<h2>Closing quotes</h2>
<ul class="days">
{% for day in days %}<li><a class="quotes-link" href="{{ url_for('market.quotes',
 date=day.isoformat()) }}">{{ day.strftime("%A %d %B %Y") }}</a></li>{% endfor %}
</ul>
<p>Machine-readable: <a href="{{ url_for('market.api_quotes', date=days[0].isoformat()) }}">JSON
 quotes API</a> (<code>?date=YYYY-MM-DD&amp;page=N</code>).</p>
{% endblock %}
"""

_MARKET_QUOTES = """{% extends "market/base.html" %}
{% block title %}Quotes {{ day.isoformat() }} &ndash; page {{ page }}{% endblock %}
{% block content %}
<h1>Closing quotes, <time datetime="{{ day.isoformat() }}">{{ day.isoformat() }}</time></h1>
<table class="quotes" data-date="{{ day.isoformat() }}">
<thead><tr><th>Symbol</th><th>Company</th><th>Exchange</th><th>Last</th><th>Currency</th>
<th>Change</th><th>Change %</th><th>Volume</th></tr></thead>
<tbody>
{% for q in quotes %}<tr data-symbol="{{ q.symbol }}">
<td class="symbol">{{ q.symbol }}</td><td class="name">{{ q.name }}</td>
<td class="exchange">{{ q.exchange }}</td><td class="price">{{ q.price }}</td>
<td class="currency">{{ q.currency }}</td>
{% set trend = "down" if q.change.startswith("-") else "up" %}
<td class="change {{ trend }}">{{ q.change }}</td><td class="change-pct {{ trend }}">{{
 q.change_pct }}</td>
<td class="volume">{{ q.volume }}</td></tr>
{% endfor %}
</tbody>
</table>
<p class="as-of">As of <time datetime="{{ as_of }}">{{ as_of }}</time></p>
<nav class="pagination">
{% if prev_url %}<a rel="prev" href="{{ prev_url }}">&lsaquo; Previous</a>{% endif %}
<span>Page {{ page }} of {{ pages }}</span>
{% if next_url %}<a rel="next" href="{{ next_url }}">Next &rsaquo;</a>{% endif %}
</nav>
{% endblock %}
"""

_ERROR = """{% extends "base.html" %}
{% block title %}{{ code }} {{ title }}{% endblock %}
{% block nav %}<a href="/shop/">Shop</a><a href="/market/">Market</a>{% endblock %}
{% block content %}
<h1>{{ code }} &ndash; {{ title }}</h1>
<p class="error">{{ message }}</p>
<p>Try the <a href="/shop/">shop</a> or the <a href="/market/">market</a>.</p>
{% endblock %}
"""

TEMPLATES: dict[str, str] = {
    "base.html": _BASE,
    "error.html": _ERROR,
    "shop/base.html": _SHOP_BASE,
    "shop/card.html": _PRODUCT_CARD,
    "shop/home.html": _SHOP_HOME,
    "shop/listing.html": _SHOP_LISTING,
    "shop/js_listing.html": _SHOP_JS_LISTING,
    "shop/private.html": _SHOP_PRIVATE,
    "shop/flaky.html": _SHOP_FLAKY,
    "shop/product.html": _SHOP_PRODUCT,
    "shop/product_plain.html": _PRODUCT_PLAIN,
    "shop/product_microdata.html": _PRODUCT_MICRODATA,
    "shop/product_rdfa.html": _PRODUCT_RDFA,
    "market/base.html": _MARKET_BASE,
    "market/index.html": _MARKET_INDEX,
    "market/quotes.html": _MARKET_QUOTES,
}


def loader() -> DictLoader:
    """A Jinja loader serving :data:`TEMPLATES`."""
    return DictLoader(TEMPLATES)
