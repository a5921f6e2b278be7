-- Extensions the later migrations use.
--
-- pg_trgm backs the trigram index for the API's substring search on product names
-- (`name ILIKE '%term%'`). It is a trusted extension (PostgreSQL 13+), so the database
-- owner can create it without superuser rights. It lives in `public` whatever the
-- migration's search_path is, so its operator classes are found from every schema.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
