"""The processor loop on a scripted consumer: outages, stop signals and rebalances share one
loop, and none of them loses, repeats past a commit, or strands a message."""

from __future__ import annotations

import threading

import pytest
from confluent_kafka import KafkaError, KafkaException

from processors.base import Batch, Handler, Sink, SinkUnavailable
from processors.runtime import Backoff, Runtime
from tests.unit.processors.kafka_doubles import ScriptedConsumer


class Values(Handler):
    """Every message's value is a record; ``bad`` values raise, as a handler bug would."""

    stage = "test"

    def handle(self, message, batch: Batch) -> None:
        if message.value() == b"bad":
            raise ValueError("cannot read this")
        batch.records.append((message.partition(), message.value()))


class FlakySink(Sink):
    """Refuses the first ``down`` writes as an outage would; keeps what it stores."""

    def __init__(self, down: int = 0) -> None:
        self.down = down
        self.attempts = 0
        self.stored: list[tuple[int, bytes]] = []
        self.closed = False

    def write(self, batch: Batch) -> None:
        self.attempts += 1
        if self.attempts <= self.down:
            raise SinkUnavailable("database is down")
        self.stored.extend(batch.records)

    def close(self) -> None:
        self.closed = True


class DeadLetters:
    def __init__(self) -> None:
        self.published: list = []

    def publish(self, rejections: list) -> None:
        self.published.extend(rejections)


def runtime(consumer: ScriptedConsumer, sink: Sink, batch_size: int = 3) -> Runtime:
    return Runtime(
        kafka={"bootstrap.servers": "unused:9092"},
        group="test",
        topics=["sluice.raw.products"],
        handler=Values(),
        sink=sink,
        dead_letters=DeadLetters(),
        batch_size=batch_size,
        backoff_max=4.0,
        consumer_factory=lambda config: consumer,
        clock=consumer.now,
    )


def values(n: int, tag: str = "m") -> list[bytes]:
    return [f"{tag}{i}".encode() for i in range(n)]


def committed(consumer: ScriptedConsumer) -> dict[int, int | None]:
    return {n: part.committed for n, part in consumer.state.items()}


def test_an_outage_replays_the_unwritten_batch_and_stores_each_message_once():
    consumer = ScriptedConsumer({0: values(5, "a"), 1: values(4, "b")})
    sink = FlakySink(down=3)
    stats = runtime(consumer, sink).run(until_idle=5, timeout=600)
    expected = [(0, v) for v in values(5, "a")] + [(1, v) for v in values(4, "b")]
    assert (sorted(sink.stored), stats.sink_retries, committed(consumer)) == (
        sorted(expected),
        3,
        {0: 5, 1: 4},
    )


def test_nothing_is_committed_while_the_sink_is_down():
    consumer = ScriptedConsumer({0: values(5)})
    sink = FlakySink(down=1_000)
    stats = runtime(consumer, sink).run(timeout=60)
    assert (stats.reason, committed(consumer)) == ("timeout", {0: None})


def test_a_stop_during_an_outage_ends_the_run_at_the_next_poll_with_nothing_committed():
    def stop_on_the_fourth_poll(consumer: ScriptedConsumer, call: int) -> None:
        if call == 4:
            loop.stop()

    consumer = ScriptedConsumer({0: values(5)}, on_consume=stop_on_the_fourth_poll)
    sink = FlakySink(down=1_000)
    loop = runtime(consumer, sink)
    stats = loop.run()
    assert (stats.reason, stats.consumed, committed(consumer), consumer.calls) == (
        "stopped",
        0,
        {0: None},
        4,
    )


def test_a_stop_closes_the_consumer_and_the_sink():
    consumer = ScriptedConsumer({0: values(1)})
    sink = FlakySink(down=1_000)
    loop = runtime(consumer, sink)
    consumer.on_consume = lambda c, call: loop.stop()
    loop.run()
    assert (consumer.closed, sink.closed) == (True, True)


def test_the_backoff_doubles_up_to_its_limit_and_restarts_after_a_write():
    backoff = Backoff(limit=4.0)
    waits = [backoff.failed(0.0) for _ in range(5)]
    backoff.succeeded()
    assert (waits, backoff.failed(0.0)) == ([0.5, 1.0, 2.0, 4.0, 4.0], 0.5)


def test_a_partition_revoked_during_an_outage_is_left_to_its_new_owner():
    def move_partition_one(consumer: ScriptedConsumer, call: int) -> None:
        if consumer.state[0].paused and 1 in consumer.assigned:  # during the outage
            consumer.revoke({1})

    consumer = ScriptedConsumer(
        {0: values(2, "a"), 1: values(2, "b")}, on_consume=move_partition_one
    )
    sink = FlakySink(down=1)
    runtime(consumer, sink).run(until_idle=5, timeout=600)
    assert (sorted(sink.stored), committed(consumer)) == (
        [(0, b"a0"), (0, b"a1")],
        {0: 2, 1: None},
    )


def test_a_partition_assigned_during_an_outage_waits_until_the_sink_is_tried_again():
    paused_when_assigned: list[bool] = []

    def add_partition_one(consumer: ScriptedConsumer, call: int) -> None:
        if consumer.state[0].paused and 1 not in consumer.assigned:  # during the outage
            consumer.assign({1})
            paused_when_assigned.append(consumer.state[1].paused)

    consumer = ScriptedConsumer(
        {0: values(2, "a"), 1: values(2, "b")}, first={0}, on_consume=add_partition_one
    )
    sink = FlakySink(down=1)
    runtime(consumer, sink).run(until_idle=5, timeout=600)
    assert (paused_when_assigned, sorted(sink.stored)) == (
        [True],
        [(0, b"a0"), (0, b"a1"), (1, b"b0"), (1, b"b1")],
    )


@pytest.mark.parametrize(
    "code",
    [KafkaError.ILLEGAL_GENERATION, KafkaError.UNKNOWN_MEMBER_ID, KafkaError.REBALANCE_IN_PROGRESS],
)
def test_a_commit_refused_by_a_rebalance_does_not_stop_the_loop(code):
    consumer = ScriptedConsumer({0: values(6)})
    consumer.commit_errors = [code]
    sink = FlakySink()
    stats = runtime(consumer, sink).run(until_idle=5, timeout=600)
    # The first batch's commit was refused; the second commits both (offsets are stored).
    assert (stats.consumed, committed(consumer)) == (6, {0: 6})


def test_any_other_commit_failure_is_raised():
    consumer = ScriptedConsumer({0: values(3)})
    consumer.commit_errors = [KafkaError._TRANSPORT]
    with pytest.raises(KafkaException):
        runtime(consumer, FlakySink()).run(until_idle=5, timeout=600)


def test_a_handler_bug_dead_letters_the_message_and_the_stream_goes_on():
    consumer = ScriptedConsumer({0: [b"m0", b"bad", b"m2"]})
    loop = runtime(consumer, FlakySink())
    stats = loop.run(until_idle=5, timeout=600)
    assert (stats.rejections_by_reason, committed(consumer)) == (
        {"handler_error/ValueError": 1},
        {0: 3},
    )


def test_the_consumer_is_built_from_the_runtime_configuration():
    configs: list[dict] = []
    consumer = ScriptedConsumer({0: values(1)})
    loop = runtime(consumer, FlakySink())
    loop.consumer_factory = lambda config: configs.append(config) or consumer
    loop.run(until_idle=5, timeout=600)
    assert (configs[0]["group.id"], configs[0]["enable.auto.offset.store"]) == ("test", False)


class SlowFirstWrite(FlakySink):
    """Holds its first write until the handler has seen the next batch (or 5 s pass)."""

    def __init__(self) -> None:
        super().__init__()
        self.next_batch_handled = threading.Event()
        self.overlapped: bool | None = None

    def write(self, batch: Batch) -> None:
        if self.overlapped is None:
            self.overlapped = self.next_batch_handled.wait(5)
        super().write(batch)


class SignalsSecondBatch(Values):
    def __init__(self, sink: SlowFirstWrite, first_batch: int) -> None:
        self.sink, self.seen, self.first_batch = sink, 0, first_batch

    def handle(self, message, batch: Batch) -> None:
        self.seen += 1
        if self.seen > self.first_batch:
            self.sink.next_batch_handled.set()
        super().handle(message, batch)


def test_the_next_batch_is_handled_while_the_one_before_is_written():
    consumer = ScriptedConsumer({0: values(6)})
    sink = SlowFirstWrite()
    loop = runtime(consumer, sink)
    loop.handler = SignalsSecondBatch(sink, first_batch=3)
    loop.run(until_idle=5, timeout=600)
    assert (sink.overlapped, len(sink.stored), committed(consumer)) == (True, 6, {0: 6})


def test_a_batch_handled_behind_a_failed_write_is_read_again_too():
    # The first batch (partition 0) finds the sink down while the second (partition 1) is
    # handled: both must be read again, though they share no partition.
    consumer = ScriptedConsumer({0: values(3, "a"), 1: values(3, "b")})
    sink = FlakySink(down=1)
    runtime(consumer, sink).run(until_idle=5, timeout=600)
    expected = [(0, v) for v in values(3, "a")] + [(1, v) for v in values(3, "b")]
    assert (sorted(sink.stored), committed(consumer)) == (expected, {0: 3, 1: 3})


def test_a_revocation_commits_the_batch_in_flight_before_the_partition_goes():
    def move_partition_zero(consumer: ScriptedConsumer, call: int) -> None:
        if call == 2:  # the first batch (partition 0) is in flight
            consumer.revoke({0})

    consumer = ScriptedConsumer(
        {0: values(3, "a"), 1: values(3, "b")}, on_consume=move_partition_zero
    )
    runtime(consumer, FlakySink()).run(until_idle=5, timeout=600)
    assert committed(consumer) == {0: 3, 1: 3}
