-- Airflow runs that were not finished by their DeadlineAlert: the deadline callback writes a
-- row, the state exporter turns them into gauges, and an alert rule pages on a fresh one.

CREATE TABLE deadline_misses (
    dag_id       text        NOT NULL,
    run_id       text        NOT NULL,
    deadline_at  timestamptz NOT NULL,
    queued_at    timestamptz,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT deadline_misses_pkey PRIMARY KEY (dag_id, run_id, deadline_at)
);

COMMENT ON TABLE deadline_misses IS 'One row per Airflow run that missed a deadline';
