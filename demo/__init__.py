"""The bundled demo websites the crawlers run against offline.

One Flask app (:func:`demo.app.create_app`) serves a schema.org shop under ``/shop/`` and a
quotes market under ``/market/``. Everything on them is generated from a seed, so a crawl of a
given seed and day always finds the same products, prices and quotes, and tests can compute
what a crawl should have found (:meth:`demo.catalog.Catalog.expected_public_products`).
"""
