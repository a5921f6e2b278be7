"""Database schema management: PostgreSQL migrations (``sql/``) and MongoDB indexes."""
