#!/usr/bin/env bash
# First start of the Compose PostgreSQL: the writer and reader roles of the native stack, with
# the same grants, and Airflow's own role and database.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v airflow_password="$AIRFLOW_DB_PASSWORD" \
  -v writer_password="$SLUICE_WRITER_PASSWORD" \
  -v reader_password="$SLUICE_READER_PASSWORD" <<'SQL'
CREATE ROLE sluice_writer LOGIN PASSWORD :'writer_password';
CREATE ROLE sluice_reader LOGIN PASSWORD :'reader_password';
ALTER ROLE sluice_reader SET default_transaction_read_only = on;
GRANT USAGE ON SCHEMA public TO sluice_writer, sluice_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE sluice IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sluice_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE sluice IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO sluice_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE sluice IN SCHEMA public GRANT SELECT ON TABLES TO sluice_reader;
CREATE ROLE airflow LOGIN PASSWORD :'airflow_password';
CREATE DATABASE airflow OWNER airflow;
SQL
