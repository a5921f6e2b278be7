-- Quotes: one row per symbol and moment (as_of) of a trading day.

CREATE TABLE quotes (
    id          bigserial PRIMARY KEY,
    symbol      text          NOT NULL,
    name        text,
    exchange    text,
    price       numeric(18, 4) NOT NULL,
    currency    char(3)       NOT NULL,
    change      numeric(18, 4),
    change_pct  numeric(18, 4),
    volume      bigint,
    as_of       timestamptz   NOT NULL,
    trade_date  date          NOT NULL,
    source      text          NOT NULL,
    crawl_id    text,
    fetched_at  timestamptz   NOT NULL,
    updated_at  timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT quotes_symbol_not_blank CHECK (symbol <> ''),
    CONSTRAINT quotes_price_positive CHECK (price > 0),
    CONSTRAINT quotes_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT quotes_volume_not_negative CHECK (volume >= 0)
);

COMMENT ON TABLE quotes IS
    'Quotes, one row per (symbol, as_of); upserted by the normalizer, newest fetch wins';

-- The natural key (`ON CONFLICT (symbol, as_of)`), descending for "latest quote of a symbol".
CREATE UNIQUE INDEX quotes_symbol_as_of_key ON quotes (symbol, as_of DESC);
CREATE INDEX quotes_trade_date_idx ON quotes (trade_date);
-- Per-crawl counts (crawl_runs.items_stored).
CREATE INDEX quotes_crawl_id_idx ON quotes (crawl_id);
