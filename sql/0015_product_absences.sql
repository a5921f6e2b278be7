-- Disappeared products: a product a complete crawl of its source did not see counts one
-- absence (missed_crawls); enough in a row mark it discontinued, with a row in its
-- availability history. Seeing it again resets the count. A run's absences are counted once
-- (absences_counted_at), however often its finalize step is retried.

ALTER TABLE products ADD COLUMN missed_crawls integer NOT NULL DEFAULT 0;
ALTER TABLE products ADD CONSTRAINT products_missed_crawls_not_negative
    CHECK (missed_crawls >= 0);
COMMENT ON COLUMN products.missed_crawls IS
    'complete crawls of the source in a row that did not see the product';

ALTER TABLE crawl_runs ADD COLUMN absences_counted_at timestamptz;
COMMENT ON COLUMN crawl_runs.absences_counted_at IS
    'when the products this complete run did not see were counted absent (NULL: not counted)';
