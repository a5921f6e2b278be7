"""The Sluice API: products, price history, quotes and crawl runs, read from PostgreSQL."""
