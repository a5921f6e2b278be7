-- The change feed (GET /api/v1/changes) reads the price and availability history in the
-- order its rows became visible, not in id order: ids are drawn when a row is written, and a
-- transaction that drew a lower id may commit after one that drew a higher. Each row records
-- the transaction that wrote it; the feed serves a row only once every transaction before it
-- has ended, so a position in the feed never has a row appear behind it later.
-- Rows written before this migration have transaction 0: they open the feed, in id order.

ALTER TABLE product_prices ADD COLUMN txid xid8 NOT NULL DEFAULT '0';
ALTER TABLE product_prices ALTER COLUMN txid SET DEFAULT pg_current_xact_id();
COMMENT ON COLUMN product_prices.txid IS
    'the transaction that wrote the row (0: before the change feed); the feed''s order';

CREATE INDEX product_prices_feed ON product_prices (txid, id);
