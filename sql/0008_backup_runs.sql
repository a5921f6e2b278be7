-- Backup sets the nightly_backup DAG made, and whether each restored when verified: what the
-- "last good backup" alert reads.

CREATE TABLE backup_runs (
    label        text        PRIMARY KEY,
    location     text        NOT NULL,
    size_bytes   bigint      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    status       text        NOT NULL DEFAULT 'created',
    verified_at  timestamptz,
    message      text,
    CONSTRAINT backup_runs_status_known CHECK (status IN ('created', 'verified', 'failed')),
    CONSTRAINT backup_runs_size_not_negative CHECK (size_bytes >= 0)
);

COMMENT ON TABLE backup_runs IS 'One row per backup set: where it is and whether it restored';

CREATE INDEX backup_runs_verified_at_idx ON backup_runs (verified_at DESC) WHERE status = 'verified';
