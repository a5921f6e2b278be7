-- A crawl run whose pages did not all come in (some failed after their retries) is 'partial':
-- its data is stored, and the failed pages can be crawled again (`sluice crawl retry`).

ALTER TABLE crawl_runs DROP CONSTRAINT crawl_runs_status_known;
ALTER TABLE crawl_runs ADD CONSTRAINT crawl_runs_status_known
    CHECK (status IN ('pending', 'running', 'finished', 'partial', 'failed', 'cancelled'));
