-- Crawl runs: one row per crawl, registered by Airflow and counted by the processors.

CREATE TABLE crawl_runs (
    crawl_id        text        PRIMARY KEY,
    spider          text,
    airflow_run_id  text,
    status          text        NOT NULL DEFAULT 'running',
    params          jsonb       NOT NULL DEFAULT '{}',
    stats           jsonb       NOT NULL DEFAULT '{}',
    started_at      timestamptz,
    finished_at     timestamptz,
    items_received  bigint      NOT NULL DEFAULT 0,
    items_stored    bigint      NOT NULL DEFAULT 0,
    items_rejected  bigint      NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT crawl_runs_status_known
        CHECK (status IN ('pending', 'running', 'finished', 'failed', 'cancelled')),
    CONSTRAINT crawl_runs_params_object CHECK (jsonb_typeof(params) = 'object'),
    CONSTRAINT crawl_runs_stats_object CHECK (jsonb_typeof(stats) = 'object'),
    CONSTRAINT crawl_runs_counts_not_negative
        CHECK (items_received >= 0 AND items_stored >= 0 AND items_rejected >= 0)
);

COMMENT ON TABLE crawl_runs IS 'One row per crawl: parameters, status, stats and item counts';

-- `/api/v1/crawls` lists newest first, optionally for one spider.
CREATE INDEX crawl_runs_started_at_idx ON crawl_runs (started_at DESC, crawl_id);
CREATE INDEX crawl_runs_spider_started_at_idx ON crawl_runs (spider, started_at DESC);
CREATE INDEX crawl_runs_airflow_run_id_idx ON crawl_runs (airflow_run_id);
