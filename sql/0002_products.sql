-- Products: the current state of every product of every source, and its price history.

CREATE TABLE products (
    id             bigserial PRIMARY KEY,
    source         text          NOT NULL,
    external_id    text          NOT NULL,
    name           text          NOT NULL,
    brand          text,
    category       text,
    price          numeric(18, 4) NOT NULL,
    currency       char(3)       NOT NULL,
    availability   text          NOT NULL DEFAULT 'unknown',
    rating         numeric(3, 2),
    review_count   integer,
    image_url      text,
    url            text          NOT NULL,
    first_seen_at  timestamptz   NOT NULL,
    last_seen_at   timestamptz   NOT NULL,
    last_crawl_id  text,
    updated_at     timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT products_source_external_id_key UNIQUE (source, external_id),
    CONSTRAINT products_source_not_blank CHECK (source <> ''),
    CONSTRAINT products_external_id_not_blank CHECK (external_id <> ''),
    CONSTRAINT products_price_positive CHECK (price > 0),
    CONSTRAINT products_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT products_availability_known
        CHECK (availability IN ('in_stock', 'out_of_stock', 'preorder', 'unknown')),
    CONSTRAINT products_rating_range CHECK (rating BETWEEN 0 AND 5),
    CONSTRAINT products_review_count_not_negative CHECK (review_count >= 0),
    CONSTRAINT products_seen_in_order CHECK (first_seen_at <= last_seen_at)
);

COMMENT ON TABLE products IS
    'Current state of each product, one row per (source, external_id); upserted by the normalizer';
COMMENT ON COLUMN products.first_seen_at IS 'fetched_at of the first observation';
COMMENT ON COLUMN products.last_seen_at IS 'fetched_at of the newest observation (the row shows it)';
COMMENT ON COLUMN products.last_crawl_id IS 'crawl of the newest observation';

-- The API filters on these and pages by id (keyset), so each filter index ends with id.
CREATE INDEX products_category_idx ON products (category, id);
CREATE INDEX products_brand_idx ON products (brand, id);
CREATE INDEX products_availability_idx ON products (availability, id);
CREATE INDEX products_price_idx ON products (price, id);
CREATE INDEX products_updated_at_idx ON products (updated_at, id);
-- Substring search: `name ILIKE '%term%'` (and `name % 'term'` similarity) use this index.
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
-- Per-crawl counts (crawl_runs.items_stored).
CREATE INDEX products_last_crawl_id_idx ON products (last_crawl_id);

CREATE TABLE product_prices (
    id            bigserial PRIMARY KEY,
    product_id    bigint        NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    price         numeric(18, 4) NOT NULL,
    currency      char(3)       NOT NULL,
    availability  text          NOT NULL DEFAULT 'unknown',
    observed_at   timestamptz   NOT NULL,
    crawl_id      text,
    CONSTRAINT product_prices_price_positive CHECK (price > 0),
    CONSTRAINT product_prices_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT product_prices_availability_known
        CHECK (availability IN ('in_stock', 'out_of_stock', 'preorder', 'unknown'))
);

COMMENT ON TABLE product_prices IS
    'Price and availability history: a row per observation that changed them';

-- One row per product and moment, so a replay inserts nothing twice
-- (`ON CONFLICT (product_id, observed_at) DO NOTHING`). Descending, because the history is
-- read newest first; the same index serves the foreign key.
CREATE UNIQUE INDEX product_prices_product_observed_key
    ON product_prices (product_id, observed_at DESC);
