"""`sluice dlq list / show / redrive` as an operator runs them, on the real stack."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Consumer, TopicPartition

from tests.support.processing import product, publish

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def end_offsets(settings, topic: str) -> int:
    consumer = Consumer({**settings.kafka, "group.id": "dlq-cli"})
    try:
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(3)
        )
    finally:
        consumer.close()


def test_an_operator_lists_shows_and_re_drives_a_rejected_record(
    migrated, settings, scratch_topic, source, sluice_cli
):
    # A whole UTC second of our own, so --since matches only this test's rejections.
    since = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0, tzinfo=None)
    time.sleep(max(0.0, (since - datetime.now(UTC).replace(tzinfo=None)).total_seconds()) + 0.05)
    broken = b'{"schema": "product/1", "crawl_id": ' + uuid.uuid4().hex.encode()
    publish(settings, scratch_topic, [(b"k", broken), product(source, "SKU-1", "1.00", 0, "c")])
    processed = sluice_cli(
        "process", "--group", "normalizer", "--topic", scratch_topic,
        "--consumer-group", f"dlq-cli-{uuid.uuid4().hex[:8]}", "--until-idle",
        "--idle-seconds", "2", "--json",
    )  # fmt: skip
    assert processed.returncode == 0, processed.stderr
    since_arg = since.strftime("%Y-%m-%dT%H:%M:%S")

    listed = sluice_cli("dlq", "list", "--since", since_arg, "--reason", "invalid_json", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [r for r in json.loads(listed.stdout) if r["topic"] == scratch_topic]
    assert len(rows) == 1
    row = rows[0]
    assert row["reason"] == "invalid_json" and row["redriven_at"] is None
    table = sluice_cli("dlq", "list", "--since", since_arg)
    assert f"{scratch_topic}[{row['partition']}]@{row['offset']}" in table.stdout

    shown = sluice_cli("dlq", "show", str(row["id"]))
    assert shown.returncode == 0, shown.stderr
    assert broken.decode() in shown.stdout and scratch_topic in shown.stdout
    missing = sluice_cli("dlq", "show", "987654321")
    assert missing.returncode == 1 and "no rejected record 987654321" in missing.stderr

    before = end_offsets(settings, scratch_topic)
    redriven = sluice_cli("dlq", "redrive", "--since", since_arg, "--reason", "invalid_json")
    assert redriven.returncode == 0, redriven.stderr
    assert f"re-drove 1 records (ids {row['id']}..{row['id']})" in redriven.stdout
    assert end_offsets(settings, scratch_topic) == before + 1  # back on its original topic
    again = sluice_cli("dlq", "redrive", "--since", since_arg, "--reason", "invalid_json")
    assert "re-drove 0 records" in again.stdout  # a record is re-driven once

    pending = sluice_cli("dlq", "list", "--since", since_arg, "--pending", "--json")
    assert [r for r in json.loads(pending.stdout) if r["topic"] == scratch_topic] == []
    assert "(re-driven)" in sluice_cli("dlq", "list", "--since", since_arg).stdout


def test_dlq_commands_name_a_bad_since(sluice_cli):
    result = sluice_cli("dlq", "list", "--since", "yesterday")
    assert result.returncode == 2
    assert "--since" in result.stderr and "yesterday" in result.stderr
