"""Queries behind each resource: filters in, rows out (no Flask here)."""
