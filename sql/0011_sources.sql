-- The sites scheduled crawls start from: each crawl_<spider> run without start URLs of its own
-- crawls the start URLs of every enabled source of its spider. Written by `sluice source`.

CREATE TABLE sources (
    name        text        PRIMARY KEY,
    spider      text        NOT NULL,
    start_urls  text[]      NOT NULL,
    enabled     boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sources_name_slug CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    -- Which spiders exist is code (sluice/crawl/specs.py), checked by sluice.sources: a new
    -- spider must not need a migration, so the table only checks the form of the name.
    CONSTRAINT sources_spider_name CHECK (spider ~ '^[a-z][a-z0-9_]*$'),
    CONSTRAINT sources_start_urls_not_empty CHECK (cardinality(start_urls) > 0),
    CONSTRAINT sources_start_urls_no_null CHECK (array_position(start_urls, NULL) IS NULL),
    -- A CHECK cannot look at each element through a subquery; joined by spaces (which no URL
    -- holds), every element must be http(s)://, then no whitespace.
    CONSTRAINT sources_start_urls_http CHECK (
        array_to_string(start_urls, ' ') ~* '^https?://\S+( https?://\S+)*$'
    ),
    CONSTRAINT sources_updated_after_created CHECK (updated_at >= created_at)
);

COMMENT ON TABLE sources IS 'Sites scheduled crawls start from: crawl_<spider> crawls every enabled source of its spider';
COMMENT ON COLUMN sources.spider IS 'the Sluice spider that crawls this source (a crawl spec of sluice/crawl/specs.py)';
COMMENT ON COLUMN sources.start_urls IS 'http(s) URLs a run starts from (at least one)';
COMMENT ON COLUMN sources.enabled IS 'false: kept, but no scheduled crawl starts from it';
