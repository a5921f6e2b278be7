"""Adding, listing and removing webhooks (rows of ``webhooks``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.engine import Connection

from sluice import changes


class WebhookError(ValueError):
    """A webhook that cannot be added or removed as asked; the message says why."""


@dataclass(frozen=True)
class Webhook:
    """One subscriber: where changes of which kinds go, and how far it has got."""

    id: int
    url: str
    kinds: tuple[str, ...]
    position: changes.Position
    delivered: int
    failed_attempts: int
    dead_letters: int
    created_at: datetime
    removed_at: datetime | None


def check_url(url: str) -> str:
    """``url`` if changes can be posted to it; WebhookError naming the problem otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise WebhookError(f"webhook URL {url!r} is not http(s)")
    if not parts.hostname:
        raise WebhookError(f"webhook URL {url!r} names no host")
    return url


def check_kinds(kinds: list[str]) -> tuple[str, ...]:
    """The kinds, each once, in the feed's order; WebhookError naming an unknown one."""
    unknown = sorted(set(kinds) - set(changes.KINDS))
    if unknown:
        raise WebhookError(f"unknown change kind(s) {unknown}; known: {list(changes.KINDS)}")
    if not kinds:
        raise WebhookError(f"name at least one change kind of {list(changes.KINDS)}")
    return tuple(k for k in changes.KINDS if k in kinds)


def add(conn: Connection, url: str, kinds: list[str], secret: str | None = None) -> Webhook:
    """Subscribe ``url`` to changes of ``kinds`` from now on; returns it (its secret is
    :func:`secret_of`'s to tell, once)."""
    txid, row_id = changes.end(conn)
    row = conn.execute(
        text(
            "INSERT INTO webhooks (url, kinds, secret, position_txid, position_id) "
            "VALUES (:url, :kinds, :secret, CAST(:txid AS xid8), :row_id) RETURNING id"
        ),
        {
            "url": check_url(url),
            "kinds": list(check_kinds(kinds)),
            "secret": secret or secrets.token_hex(32),
            "txid": str(txid),
            "row_id": row_id,
        },
    ).scalar_one()
    return get(conn, row)


def secret_of(conn: Connection, webhook_id: int) -> str:
    """The signing secret of a webhook."""
    return conn.execute(
        text("SELECT secret FROM webhooks WHERE id = :id"), {"id": webhook_id}
    ).scalar_one()


LISTED = """
SELECT w.id, w.url, w.kinds, w.position_txid::text AS txid, w.position_id, w.delivered,
       w.failed_attempts, w.created_at, w.removed_at,
       (SELECT count(*) FROM webhook_dead_letters d WHERE d.webhook_id = w.id) AS dead_letters
FROM webhooks w
"""


def listed(conn: Connection, include_removed: bool = False) -> list[Webhook]:
    """Every webhook (removed ones too when asked), oldest first."""
    where = "" if include_removed else " WHERE w.removed_at IS NULL"
    rows = conn.execute(text(LISTED + where + " ORDER BY w.id")).mappings()
    return [_webhook(row) for row in rows]


def active_ids(conn: Connection) -> list[int]:
    """The ids of the webhooks not removed, oldest first (what a deliverer goes through)."""
    rows = conn.execute(text("SELECT id FROM webhooks WHERE removed_at IS NULL ORDER BY id"))
    return [row[0] for row in rows]


def get(conn: Connection, webhook_id: int) -> Webhook:
    """One webhook by id; WebhookError when there is none."""
    row = conn.execute(text(LISTED + " WHERE w.id = :id"), {"id": webhook_id}).mappings().first()
    if row is None:
        raise WebhookError(f"no webhook {webhook_id}")
    return _webhook(row)


def remove(conn: Connection, webhook_id: int) -> None:
    """Stop delivering to a webhook (it stays listed with ``--all``, with its dead letters)."""
    done = conn.execute(
        text("UPDATE webhooks SET removed_at = now() WHERE id = :id AND removed_at IS NULL"),
        {"id": webhook_id},
    )
    if not done.rowcount:
        raise WebhookError(f"no webhook {webhook_id} to remove")


def _webhook(row) -> Webhook:
    return Webhook(
        id=row["id"],
        url=row["url"],
        kinds=tuple(row["kinds"]),
        position=(int(row["txid"]), row["position_id"]),
        delivered=row["delivered"],
        failed_attempts=row["failed_attempts"],
        dead_letters=row["dead_letters"],
        created_at=row["created_at"],
        removed_at=row["removed_at"],
    )
