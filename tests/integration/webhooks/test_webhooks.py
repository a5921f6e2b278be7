"""Webhooks over the real PostgreSQL and a local receiver: each change of a subscriber's kinds
is delivered once, in order and signed, through refusals; a receiver that never accepts leaves
a dead letter per change; deliverers running side by side deliver each change once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sluice.storage.postgres import connect, sqlalchemy_url
from sluice.webhooks import signing, subscriptions
from sluice.webhooks.delivery import Deliverer, Policy
from tests.support.crawling import wait_for
from tests.support.webhooks import Receiver, history

pytestmark = [pytest.mark.postgres]

QUICK = Policy(attempts=3, first_backoff=0.05, timeout=5)


@pytest.fixture
def engine(settings, migrated):
    made = create_engine(sqlalchemy_url(settings.postgres_writer_url))
    yield made
    made.dispose()


@pytest.fixture
def source(settings, migrated) -> Iterator[str]:
    name = f"hooks-{uuid.uuid4().hex[:8]}.localhost"
    yield name
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        conn.execute("DELETE FROM products WHERE source = %s", (name,))


@pytest.fixture
def subscribe(engine):
    """``subscribe(url, kinds)``: a webhook from now on; removed when the test ends."""
    made: list[int] = []

    def add(url: str, kinds: list[str]) -> subscriptions.Webhook:
        with engine.begin() as conn:
            hook = subscriptions.add(conn, url, kinds)
        made.append(hook.id)
        return hook

    yield add
    with engine.begin() as conn:
        for webhook_id in made:
            conn.execute(
                text("UPDATE webhooks SET removed_at = now() WHERE id = :id"), {"id": webhook_id}
            )


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for receiver in made:
        receiver.close()


def claimed(deliverer: Deliverer, webhook_id: int):
    """The deliverer's claim on the webhook, waited for: the platform's own deliverer may
    look at the new webhook first (it finds nothing to deliver yet and lets go)."""
    holder: dict = {}

    def take() -> bool:
        claim = deliverer.claim(webhook_id)
        if claim.__enter__():
            holder["claim"] = claim
            return True
        claim.__exit__(None, None, None)
        return False

    wait_for(take, timeout=30, interval=0.2, what=f"the claim on webhook {webhook_id}")
    return holder["claim"]


def test_a_receiver_that_refuses_at_first_gets_each_change_of_its_kinds_once_in_order_signed(
    engine, settings, source, subscribe, receivers
):
    receiver = Receiver(refuse=2)
    receivers.append(receiver)
    hook = subscribe(receiver.url, ["price"])
    deliverer = Deliverer(engine, QUICK)
    claim = claimed(deliverer, hook.id)
    try:
        # The claim keeps other deliverers away: the changes come after it is held.
        steps = [("10.00", "in_stock"), ("12.00", "in_stock"), ("12.00", "out_of_stock"),
                 ("9.00", "out_of_stock")]  # fmt: skip
        history(settings, source, "A", steps)
        tally = deliverer.deliver(hook.id)
    finally:
        claim.__exit__(None, None, None)
    with engine.connect() as conn:
        secret = subscriptions.secret_of(conn, hook.id)
    got = [
        (c["kinds"], c["old"]["price"], c["new"]["price"], signing.verify(secret, b, headers))
        for headers, b, c in ((h[signing.HEADER], b, c) for h, b, c in receiver.accepted())
    ]
    assert got == [(["price"], "10.0000", "12.0000", True), (["price"], "12.0000", "9.0000", True)]
    assert (tally.delivered, tally.failed_attempts) == (2, 2)


def test_a_receiver_that_always_fails_leaves_a_dead_letter_per_change_and_nothing_else_waits(
    engine, settings, source, subscribe, receivers
):
    receiver = Receiver(refuse=None)
    receivers.append(receiver)
    hook = subscribe(receiver.url, ["price", "new"])
    deliverer = Deliverer(engine, Policy(attempts=2, first_backoff=0.05, timeout=5))
    claim = claimed(deliverer, hook.id)
    try:
        history(settings, source, "B", [("5.00", "in_stock"), ("6.00", "in_stock")])
        deliverer.deliver(hook.id)
    finally:
        claim.__exit__(None, None, None)
    with engine.connect() as conn:
        letters = conn.execute(
            text(
                "SELECT body->'new'->>'price', body->'kinds', attempts, last_error "
                "FROM webhook_dead_letters WHERE webhook_id = :id ORDER BY change_id"
            ),
            {"id": hook.id},
        ).all()
        after = subscriptions.get(conn, hook.id)
    assert [tuple(row) for row in letters] == [
        ("5.0000", ["new"], 2, f"HTTP 500 from {receiver.url}"),
        ("6.0000", ["price"], 2, f"HTTP 500 from {receiver.url}"),
    ]
    assert (after.delivered, after.failed_attempts, len(receiver.posts)) == (0, 4, 4)


def test_deliverers_side_by_side_deliver_each_change_once(
    engine, settings, source, subscribe, receivers
):
    receiver = Receiver()
    receivers.append(receiver)
    subscribe(receiver.url, ["new"])
    for n in range(12):
        history(settings, source, f"C{n}", [("1.00", "in_stock")])
    # Two deliverers of this test (and the platform's own, if it runs) at once.
    rounds = [threading.Thread(target=Deliverer(engine, QUICK).deliver_all) for _ in range(2)]
    for thread in rounds:
        thread.start()
    for thread in rounds:
        thread.join(60)

    def all_there() -> bool:
        return len(receiver.accepted()) >= 12

    wait_for(all_there, timeout=60, what="twelve deliveries")
    delivered = [c["external_id"] for _, _, c in receiver.accepted()]
    assert delivered == [f"C{n}" for n in range(12)]


def test_the_run_command_delivers_what_is_pending_and_exits_with_once(
    settings, source, subscribe, receivers
):
    receiver = Receiver()
    receivers.append(receiver)
    hook = subscribe(receiver.url, ["new"])
    history(settings, source, "D", [("3.00", "in_stock")])
    env = {**os.environ, "SLUICE_METRICS_PORT": "0", "SLUICE_WEBHOOK_BACKOFF_MS": "50"}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("sluice")), "webhook", "run", "--once"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    wait_for(
        lambda: any(c["source"] == source for _, _, c in receiver.accepted()),
        timeout=30,
        what=f"webhook {hook.id}'s delivery",
    )


def test_a_url_that_is_not_http_is_refused_by_name(settings):
    done = subprocess.run(
        [str(Path(sys.executable).with_name("sluice")), "webhook", "add", "ftp://files.example/x"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, "is not http(s)" in done.stderr) == (2, True)
