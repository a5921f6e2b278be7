"""The PostgreSQL connection of the commands that write (dlq, api-key)."""

from __future__ import annotations

import click
import psycopg

from sluice.settings import Settings
from sluice.storage.postgres import connect


def writer_connection(settings: Settings) -> psycopg.Connection:
    """An autocommit connection as the writer role; a missing server is a clear CLI error."""
    try:
        return connect(settings.postgres_writer_url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise click.ClickException(
            f"PostgreSQL does not answer ({str(exc).strip()}); run `sluice stack up`"
        ) from exc
