"""The crawl drills' machinery: a crawl of the demo shop dispatched to the drill stack's worker
pool, a fault injected when it has scraped enough, and what the crawl left behind.

The input is the demo shop served by the drill stack's ``demo-site`` program (a fixed,
seeded catalogue), so a faulted crawl is compared with a reference crawl of the same shop:
the product keys published to Kafka for the crawl, the products stored for it, and how the
crawl ended.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil
import psycopg
import redis
from confluent_kafka import TopicPartition

from sluice.crawl import registry, runner
from sluice.crawl.keys import CrawlKeys
from sluice.kafka.topics import DLQ, RAW_PRODUCTS
from sluice.settings import Settings
from sluice.storage.redis import client
from tests.support import topic_range
from tests.support.drill_stack import DrillStack
from tests.support.scratch_stack import ScratchStack

SPIDER = "ecommerce"
WORKERS = 2
#: the worker pool as the drill stack's supervisor runs it
POOL = "workers"
#: a crawl of the demo shop takes well under a minute; this only bounds a stuck one
CRAWL_DEADLINE = 600.0


@dataclass
class Injected:
    """A fault that hit: when (monotonic), and how to tell the platform is whole again."""

    at: float
    recovered: Callable[[], bool]
    #: what happened while the fault was injected, for the report's detail
    notes: list[str] = field(default_factory=list)


#: injects a fault into the running crawl (given its id) once the crawl is far enough
Inject = Callable[[str], Injected]


@dataclass
class CrawlOutcome:
    """What one crawl of the demo shop left behind."""

    crawl_id: str
    #: distinct product keys (``source:external_id``) on the raw topic for the crawl
    keys: set[str]
    #: product messages on the raw topic for the crawl (a key may be delivered twice)
    messages: int
    stats: dict[str, int]
    failure: str | None
    finished: bool
    rows_out: int
    dlq_entries: int
    seconds: float
    scraped_at_hit: int = 0
    recovery_seconds: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        """Messages beyond the first of each key."""
        return self.messages - len(self.keys)


class CrawlDrill:
    """Runs crawls of the demo shop on a :class:`DrillStack` and reads back their outcome."""

    def __init__(self, stack: DrillStack) -> None:
        self.stack = stack
        self.scratch: ScratchStack = stack.scratch
        self.settings: Settings = stack.scratch.settings()
        # Polls must not hang while Redis is down: a short timeout, no retries.
        self.redis = client(self.settings.redis_url, decode=False, timeout=2)

    @property
    def start_url(self) -> str:
        """The demo shop on the drill stack's demo site."""
        return f"{self.settings.demo_site_url}/shop/"

    def scraped(self, crawl_id: str) -> int | None:
        """Items the crawl's workers have scraped so far (None while Redis does not answer)."""
        stats = self.stats(crawl_id)
        return None if stats is None else stats.get("item_scraped_count", 0)

    def stats(self, crawl_id: str) -> dict[str, int] | None:
        """The crawl's counters summed over its workers (None while Redis does not answer)."""
        try:
            return registry.status(self.redis, CrawlKeys(crawl_id)).stats
        except redis.RedisError:
            return None

    def dispatched(self, crawl_id: str) -> bool | None:
        """True while the pool still works on the crawl (None while Redis does not answer)."""
        try:
            return crawl_id in registry.dispatched(self.redis)
        except redis.RedisError:
            return None

    def wait_scraped(self, crawl_id: str, items: int, timeout: float = 300) -> int:
        """Wait until the crawl has scraped ``items`` items; return how many it has. Fails when
        the crawl ends first: the fault would not hit mid-crawl."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            count = self.scraped(crawl_id) or 0
            if count >= items:
                return count
            if self.dispatched(crawl_id) is False:
                raise AssertionError(f"the crawl ended with {count} items, before {items}")
            time.sleep(0.2)
        raise AssertionError(f"the crawl did not scrape {items} items within {timeout:.0f}s")

    def worker_pids(self, crawl_id: str, parent: int | None = None) -> list[int]:
        """The crawl's Scrapy processes (only ``parent``'s children when given)."""
        marker = f"crawl_id={crawl_id}"
        found = []
        for process in psutil.process_iter(["pid", "ppid", "cmdline"]):
            line = process.info["cmdline"] or []
            ours = parent is None or process.info["ppid"] == parent
            if "scrapy" in line and marker in line and ours:
                found.append(process.info["pid"])
        return sorted(found)

    def run(self, inject: Inject | None = None, hit_items: int = 0) -> CrawlOutcome:
        """Crawl the demo shop with :data:`WORKERS` workers; when ``inject`` is given, call it
        once the crawl has scraped ``hit_items`` items, then let the platform finish alone."""
        marks = {t: topic_range.end_marks(self.settings, t) for t in (RAW_PRODUCTS.name, DLQ.name)}
        started = time.monotonic()
        seeded = runner.seed_crawl(self.settings, SPIDER, [self.start_url])
        crawl_id = seeded.crawl_id
        registry.dispatch(self.redis, crawl_id, WORKERS)
        injected = None
        scraped_at_hit = 0
        if inject is not None:
            scraped_at_hit = self.wait_scraped(crawl_id, hit_items)
            injected = inject(crawl_id)
        recovered_at = None
        deadline = time.monotonic() + CRAWL_DEADLINE
        while True:
            if injected is not None and recovered_at is None and injected.recovered():
                recovered_at = time.monotonic()
            if self.dispatched(crawl_id) is False:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"crawl {crawl_id} still runs after {CRAWL_DEADLINE:.0f}s")
            time.sleep(0.2)
        seconds = time.monotonic() - started
        status = registry.status(client(self.settings.redis_url, decode=False, retries=20),
                                 CrawlKeys(crawl_id))  # fmt: skip
        messages = _read(self.settings, marks[RAW_PRODUCTS.name], crawl_id)
        keys = {key for key, _ in messages}
        return CrawlOutcome(
            crawl_id=crawl_id,
            keys=keys,
            messages=len(messages),
            stats=dict(status.stats),
            failure=status.failure,
            finished=status.finished,
            rows_out=self.stored(crawl_id, len(keys)),
            dlq_entries=len(_read(self.settings, marks[DLQ.name], crawl_id)),
            seconds=seconds,
            scraped_at_hit=scraped_at_hit,
            recovery_seconds=(
                None if injected is None or recovered_at is None else recovered_at - injected.at
            ),
            notes=[] if injected is None else injected.notes,
        )

    def stored(self, crawl_id: str, expected: int, timeout: float = 180) -> int:
        """Products whose latest crawl is ``crawl_id`` once the normalizer has caught up: when
        ``expected`` are there, or when the count has not moved for 15 s."""
        deadline = time.monotonic() + timeout
        last, steady_since = -1, time.monotonic()
        while True:
            with psycopg.connect(self.settings.postgres_url, connect_timeout=10) as conn:
                count = conn.execute(
                    "SELECT count(*) FROM products WHERE last_crawl_id = %s", (crawl_id,)
                ).fetchone()[0]
            if count != last:
                last, steady_since = count, time.monotonic()
            if count >= expected or time.monotonic() - steady_since > 15:
                return count
            if time.monotonic() > deadline:
                return count
            time.sleep(1)

    # -- faults the drills share -------------------------------------------------------------
    def kill_and_hold(self, program: str, down_seconds: float) -> Inject:
        """SIGKILL ``program``, keep it down ``down_seconds``, start it again."""

        def inject(crawl_id: str) -> Injected:
            before = self.stats(crawl_id) or {}
            fault = self.stack.kill(program)
            self.stack.hold_down(fault)
            time.sleep(down_seconds)
            self.stack.bring_back(program)
            return Injected(fault.at, self._flowing_again(crawl_id, program, fault.pid, before))

        return inject

    def kill(self, program: str) -> Inject:
        """SIGKILL ``program`` and leave its restart to the supervisor."""

        def inject(crawl_id: str) -> Injected:
            before = self.stats(crawl_id) or {}
            fault = self.stack.kill(program)
            return Injected(fault.at, self._flowing_again(crawl_id, program, fault.pid, before))

        return inject

    def _flowing_again(
        self, crawl_id: str, program: str, pid: int, before: dict[str, int]
    ) -> Callable[[], bool]:
        """Whole again: ``program`` runs as a new process and items reach Kafka again."""
        delivered = before.get("kafka/delivered", 0)

        def recovered() -> bool:
            state = self.stack.supervisor.states().get(program)
            if state is None or state.state != "RUNNING" or state.pid == pid:
                return False
            stats = self.stats(crawl_id)
            # The crawl may also have ended meanwhile, with everything delivered.
            return stats is not None and (
                stats.get("kafka/delivered", 0) > delivered or self.dispatched(crawl_id) is False
            )

        return recovered


def kill_pid(pid: int, sig: signal.Signals) -> float:
    """Signal one process (not its group); return when (monotonic)."""
    psutil.Process(pid).send_signal(sig)
    return time.monotonic()


def _read(settings: Settings, starts: list[TopicPartition], crawl_id: str) -> list[tuple[str, str]]:
    """(key, crawl id) of each message of ``crawl_id`` from ``starts`` to the topic's end."""
    return [
        ((message.key() or b"").decode(), crawl_id)
        for message in topic_range.messages(settings, starts)
        if _crawl_of(message) == crawl_id
    ]


def _crawl_of(message) -> str | None:
    # A dead letter names its crawl in a header; a raw item in its envelope.
    for name, value in message.headers() or []:
        if name == "crawl_id":
            return value.decode()
    try:
        return json.loads(message.value()).get("crawl_id")
    except (ValueError, AttributeError):
        return None
