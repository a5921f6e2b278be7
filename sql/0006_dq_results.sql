-- Data-quality results: one row per check, run and scope.

CREATE TABLE dq_results (
    id          bigserial   PRIMARY KEY,
    run_id      text        NOT NULL,
    check_name  text        NOT NULL,
    scope       text,
    passed      boolean     NOT NULL,
    observed    numeric,
    threshold   numeric,
    details     jsonb       NOT NULL DEFAULT '{}',
    checked_at  timestamptz NOT NULL DEFAULT now(),
    -- A retried check task upserts its result instead of adding a second one
    -- (`ON CONFLICT (run_id, check_name, scope)`; a NULL scope counts as one value).
    CONSTRAINT dq_results_run_check_scope_key UNIQUE NULLS NOT DISTINCT (run_id, check_name, scope)
);

COMMENT ON TABLE dq_results IS 'Outcome of each data-quality check of each run';

CREATE INDEX dq_results_check_name_checked_at_idx ON dq_results (check_name, checked_at DESC);
CREATE INDEX dq_results_checked_at_idx ON dq_results (checked_at);
