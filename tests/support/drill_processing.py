"""How the processor drills run a stream: as a backlog the stack's own processors drain, with
progress read from the consumer groups' committed offsets, and a row for the report."""

from __future__ import annotations

import time
import xmlrpc.client

from confluent_kafka import Consumer, KafkaException

from sluice.connections import kafka_client_config
from sluice.kafka.lag import committed_behind, end_offsets
from sluice.kafka.topics import RAW_PRODUCTS, RAW_QUOTES
from sluice.settings import Settings
from tests.support.crawling import wait_for
from tests.support.drill_data import Fingerprint, Stream, compare, fingerprint
from tests.support.drill_report import DrillRow
from tests.support.drill_stack import DrillStack, Fault

TOPICS = [RAW_PRODUCTS.name, RAW_QUOTES.name]
GROUPS = {"normalizer": "sluice.normalizer", "archiver": "sluice.archiver"}
#: a stream of 100,000 drains in minutes even with every fault: this is a hang, not slowness
DRAIN_TIMEOUT = 900


class Backlog:
    """One stream published while the processors are stopped, then drained by them."""

    def __init__(self, stack: DrillStack, stream: Stream) -> None:
        self.stack = stack
        self.stream = stream
        self.settings: Settings = stack.scratch.settings()
        self.total = 0
        self.marks: dict[str, int] = {}
        # One long-lived offset reader per group: a progress read is then one round trip, so
        # a fault lands within milliseconds of the share it was meant for.
        self._readers: dict[str, Consumer] = {}

    def publish(self) -> Backlog:
        """Stop both processors, publish the whole stream, and note where it ends."""
        for program in GROUPS:
            self._stop(program)
        self.total = self.stream.publish(self.settings)
        self.marks = end_offsets(self.settings.kafka, TOPICS)
        return self

    def start(self, *programs: str) -> None:
        """Start the processors (both by default) under the stack's supervisor, without
        waiting for its start window: they drain from their first second."""
        for program in programs or GROUPS:
            self.stack.supervisor.rpc.startProcess(program, False)

    def remaining(self, program: str) -> int | None:
        """Messages of the stream ``program`` has not committed (None: Kafka did not answer)."""
        reader = self._readers.get(program)
        if reader is None:
            reader = self._readers[program] = Consumer(
                kafka_client_config(
                    self.settings.kafka,
                    **{"group.id": GROUPS[program], "enable.auto.commit": False},
                )
            )
        try:
            return committed_behind(reader, self.marks, timeout=2)
        except KafkaException:
            return None

    def done(self, program: str) -> float:
        """The share of the stream ``program`` has committed (0 while Kafka does not answer)."""
        left = self.remaining(program)
        return 0.0 if left is None else 1 - left / self.total

    def wait_progress(self, program: str, share: float) -> float:
        """Wait until ``program`` has committed ``share`` of the stream; return the share."""
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while (done := self.done(program)) < share:
            assert time.monotonic() < deadline, f"{program} never committed {share:.0%}"
            time.sleep(0.005)
        return done

    def crash_at(self, watched: str, share: float, victim: str) -> tuple[Fault, float]:
        """SIGKILL ``victim`` as soon as ``watched`` has committed ``share`` of the stream;
        return the fault and the share committed when it hit."""
        hit = self.wait_progress(watched, share)
        return self.stack.kill(victim), hit

    def close(self) -> None:
        """Close the offset readers."""
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()

    def wait_resumed(self, program: str, fault: Fault) -> float:
        """Seconds from ``fault`` until ``program`` commits past where it stood then."""
        stood = None

        def read() -> bool:
            nonlocal stood
            stood = self.remaining(program)
            return stood is not None

        wait_for(read, DRAIN_TIMEOUT, interval=0.2, what="Kafka to answer after the fault")
        if stood == 0:
            return time.monotonic() - fault.at
        wait_for(
            lambda: (left := self.remaining(program)) is not None and left < stood,
            DRAIN_TIMEOUT,
            interval=0.2,
            what=f"{program} to commit again after the {fault.program} fault",
        )
        return time.monotonic() - fault.at

    def wait_drained(self) -> None:
        """Wait until both processors have committed the whole stream and every service of
        the stack answers again (a store may still be recovering from its crash)."""
        for program in GROUPS:
            wait_for(
                lambda program=program: self.remaining(program) == 0,
                DRAIN_TIMEOUT,
                what=f"{program} to drain {self.total:,} messages",
            )
        self.close()
        self.stack.wait_healthy()

    def row(
        self, name: str, fault: str, hit_at: str, reference: Fingerprint, recovery: float | None
    ) -> DrillRow:
        """The report row of this drained stream against the ``reference`` run."""
        observed = fingerprint(self.settings, self.stream)
        return drill_row(name, fault, hit_at, self, reference, observed, recovery)

    def _stop(self, program: str) -> None:
        try:
            self.stack.supervisor.rpc.stopProcess(program, True)
        except xmlrpc.client.Fault as exc:
            if "NOT_RUNNING" not in exc.faultString:
                raise


def drill_row(
    name: str,
    fault: str,
    hit_at: str,
    backlog: Backlog,
    reference: Fingerprint,
    observed: Fingerprint,
    recovery: float | None,
) -> DrillRow:
    """The report row of a processor drill: the faulted run against the reference run."""
    result = compare(reference, observed)
    checks = {
        "no loss": result.losses == 0,
        "no duplicate": result.duplicates == 0,
        "no changed row": result.mismatches == 0,
        "same dead letters": result.dlq_equal,
        **{f"{table} checksum": equal for table, equal in result.tables_equal.items()},
        "recovered": recovery is not None,
    }
    unequal = [table for table, equal in result.tables_equal.items() if not equal]
    redelivered = len(observed.dead_letters) - len(set(observed.dead_letters))
    twice = f", {redelivered} delivered twice to the DLQ topic (stored once)" if redelivered else ""
    detail = (
        f"{backlog.total:,} messages ({observed.rows_out:,} rows in PostgreSQL, "
        f"{len(observed.tables['raw_items']):,} raw documents); "
        f"checksums {'all equal to' if not unequal else 'differ from'} the reference run's"
        f"{'' if not unequal else ' in ' + ', '.join(unequal)}; "
        f"{result.mismatches} changed rows; dead letters "
        f"{'identical' if result.dlq_equal else 'differ'}"
        f"{twice}."
    )
    return DrillRow(
        name=name,
        fault=fault,
        hit_at=hit_at,
        items_in=backlog.total,
        rows_out=observed.rows_out,
        duplicates=result.duplicates,
        losses=result.losses,
        dlq_entries=len(observed.dead_letters),
        recovery_seconds=None if recovery is None else round(recovery, 1),
        passed=all(checks.values()),
        detail=detail,
        checks=checks,
    )
