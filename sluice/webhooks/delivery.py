"""Delivering the change feed to webhooks.

Each subscriber gets every change of its kinds, in the feed's order, as a signed JSON POST
(:mod:`sluice.webhooks.signing`). A refused delivery (no 2xx, a timeout, a refused
connection) is retried after a backoff that doubles from ``SLUICE_WEBHOOK_BACKOFF_MS`` (or the
receiver's ``Retry-After``, up to a minute); after ``SLUICE_WEBHOOK_ATTEMPTS`` attempts the
change becomes a dead-letter record and the subscriber moves on. Delivery is at least once:
a deliverer that dies between a delivery and its record sends that change again, with the
same ``X-Sluice-Delivery`` id for the receiver to drop.

Any number of deliverers may run (one per replica). A webhook is delivered by one at a time:
the one holding its advisory lock, taken on a connection that never opens a transaction (an
open transaction would hold the change feed back for everyone). The subscriber's position is
read after the lock is taken and moved on with each change, in PostgreSQL, so the deliverer
that takes over next starts where the last one stopped.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import requests
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from sluice import changes
from sluice.webhooks import signing, subscriptions

log = logging.getLogger(__name__)

#: changes read from the feed per round
BATCH = 100
#: the longest wait a receiver's Retry-After may ask for
MAX_RETRY_AFTER = 60.0

LOCK = text("SELECT pg_try_advisory_lock(hashtextextended('sluice.webhook:' || :id, 0))")
UNLOCK = text("SELECT pg_advisory_unlock(hashtextextended('sluice.webhook:' || :id, 0))")

RECORD = text(
    "UPDATE webhooks SET position_txid = CAST(:txid AS xid8), position_id = :row_id, "
    "delivered = delivered + :delivered, failed_attempts = failed_attempts + :failures "
    "WHERE id = :id"
)
DEAD_LETTER = text(
    "INSERT INTO webhook_dead_letters (webhook_id, change_id, body, attempts, last_error) "
    "VALUES (:id, :change_id, CAST(:body AS jsonb), :attempts, :error) "
    "ON CONFLICT (webhook_id, change_id) DO NOTHING"
)
# Only forward: a deliverer that lost its lock meanwhile must not move a position back.
MOVE_ON = text(
    "UPDATE webhooks SET position_txid = CAST(:txid AS xid8), position_id = :row_id "
    "WHERE id = :id AND (position_txid, position_id) < (CAST(:txid AS xid8), :row_id)"
)


@dataclass(frozen=True)
class Policy:
    """How hard a deliverer tries: attempts per change, the first backoff, the request
    timeout (seconds)."""

    attempts: int = 5
    first_backoff: float = 1.0
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings) -> Policy:
        """The policy of ``SLUICE_WEBHOOK_*``."""
        return cls(
            attempts=settings.webhook_attempts,
            first_backoff=settings.webhook_backoff_ms / 1000,
            timeout=float(settings.webhook_timeout),
        )


@dataclass
class Tally:
    """What a round of deliveries did."""

    delivered: int = 0
    dead_lettered: int = 0
    failed_attempts: int = 0

    def add(self, other: Tally) -> None:
        """Count ``other`` in."""
        self.delivered += other.delivered
        self.dead_lettered += other.dead_lettered
        self.failed_attempts += other.failed_attempts


@dataclass(frozen=True)
class Attempts:
    """How the delivery of one change went: accepted or not, after how many failures."""

    accepted: bool
    failures: int
    last_error: str = ""


class Deliverer:
    """Delivers pending changes to every webhook it can claim."""

    def __init__(
        self,
        engine: Engine,
        policy: Policy,
        stopping: threading.Event | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.stopping = stopping or threading.Event()
        self.session = session or requests.Session()

    def deliver_all(self) -> Tally:
        """One round: every active webhook not claimed by another deliverer, up to the feed's
        end (or until stopped)."""
        tally = Tally()
        with self.engine.connect() as conn:
            hooks = subscriptions.active_ids(conn)
        for webhook_id in hooks:
            if self.stopping.is_set():
                break
            with self.claim(webhook_id) as claimed:
                if claimed:
                    tally.add(self.deliver(webhook_id))
        return tally

    @contextmanager
    def claim(self, webhook_id: int) -> Iterator[bool]:
        """Hold a webhook's delivery for the block, if no other deliverer holds it (True);
        the claim ends with the block, or with this process."""
        # A connection of its own, outside any transaction: the lock lives with its session.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            claimed = bool(conn.execute(LOCK, {"id": str(webhook_id)}).scalar_one())
            try:
                yield claimed
            finally:
                if claimed:
                    conn.execute(UNLOCK, {"id": str(webhook_id)})

    def deliver(self, webhook_id: int) -> Tally:
        """Deliver one webhook's pending changes (the caller holds its claim)."""
        tally = Tally()
        while not self.stopping.is_set():
            with self.engine.connect() as conn:
                hook = subscriptions.get(conn, webhook_id)
                if hook.removed_at is not None:
                    return tally
                secret = subscriptions.secret_of(conn, webhook_id)
                found, following = changes.read(conn, hook.position, hook.kinds, BATCH)
            for position, change in found:
                attempts = self._send(hook, secret, change)
                if attempts is None:  # stopped between attempts: the change waits its turn
                    return tally
                with self.engine.begin() as conn:
                    self._record(conn, hook, position, change, attempts, tally)
            if len(found) < BATCH:
                with self.engine.begin() as conn:
                    conn.execute(
                        MOVE_ON,
                        {"id": webhook_id, "txid": str(following[0]), "row_id": following[1]},
                    )
                return tally
        return tally

    def _record(
        self,
        conn: Connection,
        hook: subscriptions.Webhook,
        position: changes.Position,
        change: dict[str, Any],
        attempts: Attempts,
        tally: Tally,
    ) -> None:
        conn.execute(
            RECORD,
            {
                "id": hook.id,
                "txid": str(position[0]),
                "row_id": position[1],
                "delivered": int(attempts.accepted),
                "failures": attempts.failures,
            },
        )
        tally.failed_attempts += attempts.failures
        if attempts.accepted:
            tally.delivered += 1
            return
        conn.execute(
            DEAD_LETTER,
            {
                "id": hook.id,
                "change_id": change["id"],
                "body": body_of(change).decode(),
                "attempts": attempts.failures,
                "error": attempts.last_error[:2000],
            },
        )
        tally.dead_lettered += 1
        log.warning(
            "webhook %d (%s): change %d dead-lettered after %d attempts: %s",
            hook.id,
            hook.url,
            change["id"],
            attempts.failures,
            attempts.last_error,
        )

    def _send(
        self, hook: subscriptions.Webhook, secret: str, change: dict[str, Any]
    ) -> Attempts | None:
        """POST one change until accepted or out of attempts; None when stopped meanwhile."""
        body = body_of(change)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Sluice-Webhooks",
            "X-Sluice-Delivery": f"{hook.id}-{change['id']}",
            "X-Sluice-Kinds": ",".join(change["kinds"]),
            signing.HEADER: signing.sign(secret, body),
        }
        failures, error = 0, ""
        for attempt in range(1, self.policy.attempts + 1):
            asked = 0.0
            try:
                response = self.session.post(
                    hook.url,
                    data=body,
                    headers=headers,
                    timeout=self.policy.timeout,
                    allow_redirects=False,
                )
                if 200 <= response.status_code < 300:
                    return Attempts(True, failures)
                error = f"HTTP {response.status_code} from {hook.url}"
                asked = retry_after(response.headers.get("Retry-After"))
            except requests.RequestException as exc:
                error = f"{type(exc).__name__} posting to {hook.url}: {exc}"
            failures += 1
            log.debug(
                "webhook %d: change %d attempt %d failed: %s", hook.id, change["id"], attempt, error
            )
            if attempt < self.policy.attempts:
                wait = max(self.policy.first_backoff * 2 ** (attempt - 1), asked)
                if self.stopping.wait(wait):
                    return None
        return Attempts(False, failures, error)


def body_of(change: dict[str, Any]) -> bytes:
    """The JSON a change is delivered as (the API's change shape: decimals as strings)."""
    return json.dumps(change, default=_json_value, separators=(",", ":")).encode()


def retry_after(value: str | None) -> float:
    """Seconds a ``Retry-After`` header asks for (0 when absent or a date), at most a minute."""
    try:
        seconds = float(value or 0)
    except ValueError:
        return 0.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER) if math.isfinite(seconds) else 0.0


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
