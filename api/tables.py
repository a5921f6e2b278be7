"""The tables the API reads, as SQLAlchemy Core (the schema itself belongs to sql/)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY

metadata = MetaData()

products = Table(
    "products",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("source", Text),
    Column("external_id", Text),
    Column("name", Text),
    Column("brand", Text),
    Column("category", Text),
    Column("price", Numeric(18, 4)),
    Column("currency", Text),
    Column("availability", Text),
    Column("rating", Numeric(3, 2)),
    Column("review_count", Integer),
    Column("image_url", Text),
    Column("url", Text),
    Column("first_seen_at", DateTime(timezone=True)),
    Column("last_seen_at", DateTime(timezone=True)),
    Column("last_crawl_id", Text),
    Column("updated_at", DateTime(timezone=True)),
)

product_prices = Table(
    "product_prices",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("product_id", BigInteger),
    Column("price", Numeric(18, 4)),
    Column("currency", Text),
    Column("availability", Text),
    Column("observed_at", DateTime(timezone=True)),
    Column("crawl_id", Text),
)

quotes = Table(
    "quotes",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("symbol", Text),
    Column("name", Text),
    Column("exchange", Text),
    Column("price", Numeric(18, 4)),
    Column("currency", Text),
    Column("change", Numeric(18, 4)),
    Column("change_pct", Numeric(18, 4)),
    Column("volume", BigInteger),
    Column("as_of", DateTime(timezone=True)),
    Column("trade_date", Date),
    Column("source", Text),
    Column("crawl_id", Text),
    Column("fetched_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
)

crawl_runs = Table(
    "crawl_runs",
    metadata,
    Column("crawl_id", Text, primary_key=True),
    Column("spider", Text),
    Column("airflow_run_id", Text),
    Column("status", Text),
    Column("params", JSON),
    Column("stats", JSON),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("items_received", BigInteger),
    Column("items_stored", BigInteger),
    Column("items_rejected", BigInteger),
    Column("updated_at", DateTime(timezone=True)),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("name", Text),
    Column("key_hash", Text),
    Column("key_prefix", Text),
    Column("rate_limit_per_minute", Integer),
    Column("scopes", ARRAY(Text)),
    Column("created_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)
