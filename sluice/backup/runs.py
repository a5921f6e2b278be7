"""The ``backup_runs`` table: each backup set made, and the outcome of verifying it."""

from __future__ import annotations

from psycopg import Connection


def record_created(conn: Connection, label: str, location: str, size_bytes: int) -> None:
    """Note a new set (a retry of the same label starts over as unverified)."""
    conn.execute(
        "INSERT INTO backup_runs (label, location, size_bytes) VALUES (%s, %s, %s) "
        "ON CONFLICT (label) DO UPDATE SET location = EXCLUDED.location, "
        "size_bytes = EXCLUDED.size_bytes, created_at = now(), status = 'created', "
        "verified_at = NULL, message = NULL",
        (label, location, size_bytes),
    )


def record_verified(conn: Connection, label: str, ok: bool, message: str = "") -> None:
    """Note whether the set restored and compared equal."""
    conn.execute(
        "UPDATE backup_runs SET status = %s, verified_at = now(), message = %s WHERE label = %s",
        ("verified" if ok else "failed", message or None, label),
    )
