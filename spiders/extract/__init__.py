"""Reading products out of web pages: schema.org markup first, per-site CSS selectors second."""

from spiders.extract.canonical import extract_canonical
from spiders.extract.products import extract_products

__all__ = ["extract_canonical", "extract_products"]
