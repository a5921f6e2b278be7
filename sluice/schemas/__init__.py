"""Item schemas and normalisation shared by the spiders and the processors.

The marshmallow schemas here are the contract of the data path: a spider validates an item
with them before publishing it, and the normaliser validates the same envelope again before
storing it, so both sides agree on what a valid product or quote is.
"""

from sluice.schemas.envelope import (
    PRODUCT_SCHEMA,
    QUOTE_SCHEMA,
    EnvelopeSchema,
    build_envelope,
    natural_key,
)
from sluice.schemas.items import ProductItemSchema, QuoteItemSchema

__all__ = [
    "PRODUCT_SCHEMA",
    "QUOTE_SCHEMA",
    "EnvelopeSchema",
    "ProductItemSchema",
    "QuoteItemSchema",
    "build_envelope",
    "natural_key",
]
