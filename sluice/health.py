"""Pipeline health: processor consumer lag, dead-letter rate and freshness per spider and source.

The ``pipeline_health`` DAG calls :func:`check_health` every few minutes with a PostgreSQL
connection and the Kafka bootstrap address of its ``sluice_kafka`` connection, and fails (or
alerts) when :attr:`HealthReport.is_healthy` is false; :meth:`HealthReport.summary` says why.
The measuring functions and :func:`evaluate` (measurements + thresholds -> problems) are
public too, so each part can be used or tested on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from confluent_kafka import KafkaException

from sluice.crawl.runs import LAST_FINISHED
from sluice.kafka.admin import admin_client
from sluice.kafka.lag import group_lag
from sluice.kafka.topics import RAW_PRODUCTS, RAW_QUOTES

log = logging.getLogger(__name__)

#: the processors' consumer groups (``processors.app.consumer_group``), whose lag is watched
PROCESSOR_GROUPS: tuple[str, ...] = ("sluice.archiver", "sluice.normalizer")
#: the topics the processors consume
RAW_TOPICS: tuple[str, ...] = (RAW_PRODUCTS.name, RAW_QUOTES.name)


@dataclass(frozen=True)
class HealthThresholds:
    """What the pipeline tolerates before it counts as unhealthy."""

    #: messages a processor group may be behind the raw topics
    max_lag: int = 10_000
    #: how far back the dead-letter rate looks
    dlq_window: timedelta = timedelta(hours=1)
    #: largest tolerated share of rejected items among the items of the window
    max_dlq_rate: float = 0.05
    #: fewer items than this in the window are too few to judge a rate by
    dlq_min_items: int = 20
    #: time since a spider's newest finished run
    max_spider_age: timedelta = timedelta(hours=26)
    #: per-spider replacements of ``max_spider_age`` (an hourly spider, a weekly one)
    spider_max_age: Mapping[str, timedelta] = field(default_factory=dict)
    #: time since a source's newest stored row
    max_source_age: timedelta = timedelta(hours=26)
    #: per-source replacements of ``max_source_age``
    source_max_age: Mapping[str, timedelta] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if self.max_lag < 0:
            problems.append(f"max_lag={self.max_lag!r} is negative")
        if not 0 <= self.max_dlq_rate <= 1:
            problems.append(f"max_dlq_rate={self.max_dlq_rate!r} is not a share in [0, 1]")
        if self.dlq_min_items < 0:
            problems.append(f"dlq_min_items={self.dlq_min_items!r} is negative")
        ages = {
            "dlq_window": self.dlq_window,
            "max_spider_age": self.max_spider_age,
            "max_source_age": self.max_source_age,
            **{f"spider_max_age[{k!r}]": v for k, v in self.spider_max_age.items()},
            **{f"source_max_age[{k!r}]": v for k, v in self.source_max_age.items()},
        }
        problems += [
            f"{name}={value!r} is not positive"
            for name, value in ages.items()
            if not value > timedelta(0)
        ]
        if problems:
            raise ValueError("invalid health thresholds: " + "; ".join(problems))


@dataclass(frozen=True)
class GroupLag:
    """How far one consumer group is behind; ``lag`` is None when it could not be read."""

    group: str
    lag: int | None
    error: str | None = None


@dataclass(frozen=True)
class DlqRate:
    """Items rejected and stored during ``(since, until]``."""

    since: datetime
    until: datetime
    rejected: int
    stored: int

    @property
    def received(self) -> int:
        """Items that reached the normalizer in the window (stored or rejected)."""
        return self.rejected + self.stored

    @property
    def rate(self) -> float | None:
        """Rejected share of the received items; None when nothing arrived."""
        return self.rejected / self.received if self.received else None


@dataclass(frozen=True)
class Freshness:
    """When a spider last finished a run, or a source last had a row stored."""

    kind: str  # "spider" or "source"
    name: str
    newest_at: datetime | None
    age: timedelta | None


@dataclass(frozen=True)
class Problem:
    """One thing that is wrong, in words: ``kind`` is lag, dlq, spider or source."""

    kind: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}: {self.message}"


@dataclass(frozen=True)
class HealthReport:
    """Every measurement of one health check and the problems found in them."""

    checked_at: datetime
    lag: list[GroupLag]
    dlq: DlqRate | None
    spiders: list[Freshness]
    sources: list[Freshness]
    problems: list[Problem]

    @property
    def is_healthy(self) -> bool:
        """True when no measurement crossed its threshold."""
        return not self.problems

    def summary(self) -> str:
        """A readable multi-line text: the verdict, then one line per problem."""
        if self.is_healthy:
            parts = []
            if self.lag:
                parts.append("lag " + ", ".join(f"{g.group} {g.lag}" for g in self.lag))
            if self.dlq is not None:
                parts.append(_describe_dlq(self.dlq))
            parts.append(f"{len(self.spiders)} spiders and {len(self.sources)} sources fresh")
            return "pipeline health: healthy (" + "; ".join(parts) + ")"
        count = len(self.problems)
        lines = [f"pipeline health: {count} problem{'s' if count != 1 else ''}"]
        lines += [f"- {p}" for p in self.problems]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON values (for an XCom or a log line)."""
        return {
            "checked_at": self.checked_at.isoformat(),
            "healthy": self.is_healthy,
            "problems": [str(p) for p in self.problems],
            "lag": {g.group: g.lag for g in self.lag},
            "dlq": None
            if self.dlq is None
            else {
                "since": self.dlq.since.isoformat(),
                "until": self.dlq.until.isoformat(),
                "rejected": self.dlq.rejected,
                "stored": self.dlq.stored,
                "rate": self.dlq.rate,
            },
            "spiders": {f.name: _age_seconds(f) for f in self.spiders},
            "sources": {f.name: _age_seconds(f) for f in self.sources},
        }


class HealthError(Exception):
    """The pipeline is unhealthy; the message is the report's summary."""

    def __init__(self, report: HealthReport) -> None:
        self.report = report
        super().__init__(report.summary())


def raise_for_problems(report: HealthReport) -> None:
    """Raise :class:`HealthError` when ``report`` lists problems."""
    if not report.is_healthy:
        raise HealthError(report)


def consumer_lag(
    kafka: Mapping[str, Any],
    groups: Sequence[str] = PROCESSOR_GROUPS,
    topics: Sequence[str] = RAW_TOPICS,
    timeout: float = 10.0,
) -> list[GroupLag]:
    """The lag of each consumer group over ``topics``; errors are reported, not raised.

    The topics are looked up first: a missing topic would otherwise read as zero lag, and
    an unreachable broker costs one timeout instead of one per group.
    """
    groups, topics = _names(groups, "groups"), _names(topics, "topics")
    bootstrap = kafka["bootstrap.servers"]
    try:
        existing = admin_client(kafka).list_topics(timeout=timeout).topics
    except KafkaException as exc:
        error = f"Kafka at {bootstrap} unreachable: {exc}"
        return [GroupLag(g, None, error) for g in groups]
    missing = [t for t in topics if t not in existing]
    if missing:
        error = f"topic(s) {', '.join(missing)} do not exist on {bootstrap}"
        return [GroupLag(g, None, error) for g in groups]
    lags = []
    for group in groups:
        try:
            lags.append(GroupLag(group, group_lag(kafka, group, list(topics), timeout)))
        except KafkaException as exc:
            lags.append(GroupLag(group, None, f"could not read the lag: {exc}"))
    return lags


DLQ_COUNTS = """
WITH crawls AS (
    -- The crawls of the spiders asked for; with none asked for, every row counts.
    SELECT crawl_id FROM crawl_runs WHERE spider = ANY(%(spiders)s::text[])
)
SELECT
    (SELECT count(*) FROM rejected_items
     WHERE rejected_at > %(since)s AND rejected_at <= %(until)s
       AND (%(spiders)s::text[] IS NULL OR crawl_id IN (SELECT crawl_id FROM crawls))),
    (SELECT count(*) FROM products
     WHERE updated_at > %(since)s AND updated_at <= %(until)s
       AND (%(spiders)s::text[] IS NULL OR last_crawl_id IN (SELECT crawl_id FROM crawls)))
  + (SELECT count(*) FROM quotes
     WHERE updated_at > %(since)s AND updated_at <= %(until)s
       AND (%(spiders)s::text[] IS NULL OR crawl_id IN (SELECT crawl_id FROM crawls)))
"""


def dlq_rate(
    conn: psycopg.Connection,
    window: timedelta,
    now: datetime | None = None,
    spiders: Sequence[str] | None = None,
) -> DlqRate:
    """Rejected items against all items the normalizer handled in the last ``window``.

    Stored items are the products and quotes rows written in the window (``updated_at`` is
    set on every stored observation); ``crawl_runs.items_received`` is not used because it
    counts per crawl, not per moment. ``spiders`` narrows both counts to the items of those
    spiders' crawls (a rejected message whose crawl is unknown then does not count).
    """
    until = _now(conn, now)
    since = until - window
    names = _names(spiders, "spiders") if spiders is not None else None
    rejected, stored = conn.execute(
        DLQ_COUNTS, {"since": since, "until": until, "spiders": names}
    ).fetchone()
    return DlqRate(since, until, int(rejected), int(stored))


def spider_freshness(
    conn: psycopg.Connection, spiders: Sequence[str] | None = None, now: datetime | None = None
) -> list[Freshness]:
    """Time since each spider's newest finished crawl run (every spider with a run if None)."""
    now = _now(conn, now)
    names = _names(spiders, "spiders") if spiders is not None else None
    if names is None:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT spider FROM crawl_runs WHERE spider IS NOT NULL ORDER BY 1"
            )
        ]
    # The age is measured against ``now`` here (it may be given), not the database's clock.
    rows = conn.execute(LAST_FINISHED, {"spiders": names}).fetchall()
    return [_freshness("spider", name, newest, now) for name, newest, _ in rows]


SOURCE_FRESHNESS = """
WITH newest AS (
    SELECT source, max(updated_at) AS updated_at FROM products
    WHERE %(sources)s::text[] IS NULL OR source = ANY(%(sources)s::text[])
    GROUP BY source
    UNION ALL
    SELECT source, max(updated_at) FROM quotes
    WHERE %(sources)s::text[] IS NULL OR source = ANY(%(sources)s::text[])
    GROUP BY source
), wanted AS (
    SELECT DISTINCT source FROM newest
    UNION
    SELECT unnest(coalesce(%(sources)s::text[], '{}'))
)
SELECT w.source, max(n.updated_at)
FROM wanted w LEFT JOIN newest n ON n.source = w.source
GROUP BY w.source
ORDER BY w.source
"""


def source_freshness(
    conn: psycopg.Connection, sources: Sequence[str] | None = None, now: datetime | None = None
) -> list[Freshness]:
    """Time since each source's newest stored product or quote (every source if None).

    A source asked for by name that has no rows at all is listed with no time.
    """
    now = _now(conn, now)
    names = _names(sources, "sources") if sources is not None else None
    rows = conn.execute(SOURCE_FRESHNESS, {"sources": names}).fetchall()
    return [_freshness("source", name, newest, now) for name, newest in rows]


def evaluate(
    lag: Sequence[GroupLag],
    dlq: DlqRate | None,
    spiders: Sequence[Freshness],
    sources: Sequence[Freshness],
    thresholds: HealthThresholds,
) -> list[Problem]:
    """The problems in these measurements under ``thresholds`` (pure: no I/O)."""
    problems: list[Problem] = []
    for group in lag:
        if group.lag is None:
            problems.append(Problem("lag", group.group, group.error or "lag unknown"))
        elif group.lag > thresholds.max_lag:
            problems.append(
                Problem(
                    "lag",
                    group.group,
                    f"{group.lag} messages behind (at most {thresholds.max_lag} tolerated)",
                )
            )
    # Too few items say nothing about a rate: 1 rejected of 2 is not a 50% failure rate.
    judged = dlq is not None and dlq.rate is not None and dlq.received >= thresholds.dlq_min_items
    if judged and dlq.rate > thresholds.max_dlq_rate:
        problems.append(
            Problem(
                "dlq",
                "rate",
                f"{_describe_dlq(dlq)} (at most {_pct(thresholds.max_dlq_rate)} tolerated)",
            )
        )
    for item in spiders:
        limit = thresholds.spider_max_age.get(item.name, thresholds.max_spider_age)
        problems += _stale(item, limit, "no finished crawl run")
    for item in sources:
        limit = thresholds.source_max_age.get(item.name, thresholds.max_source_age)
        problems += _stale(item, limit, "no rows stored")
    return problems


def check_health(
    conn: psycopg.Connection,
    kafka: Mapping[str, Any] | None,
    *,
    thresholds: HealthThresholds | None = None,
    spiders: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    dlq_spiders: Sequence[str] | None = None,
    groups: Sequence[str] = PROCESSOR_GROUPS,
    topics: Sequence[str] = RAW_TOPICS,
    now: datetime | None = None,
    kafka_timeout: float = 10.0,
) -> HealthReport:
    """Measure lag, DLQ rate and freshness, and judge them against ``thresholds``.

    ``kafka`` is the Kafka connection (``Settings.kafka`` or an Airflow extra); None skips
    the lag.
    ``spiders`` and ``sources`` name what must be fresh (None: every one the database
    knows). ``dlq_spiders`` narrows the DLQ rate to those spiders' crawls (None: every
    item). ``now`` defaults to the database's clock, which stamps the rows being judged.
    """
    thresholds = thresholds or HealthThresholds()
    lag = consumer_lag(kafka, groups, topics, kafka_timeout) if kafka else []
    now = _now(conn, now)
    dlq = dlq_rate(conn, thresholds.dlq_window, now, dlq_spiders)
    spider_ages = spider_freshness(conn, spiders, now)
    source_ages = source_freshness(conn, sources, now)
    problems = evaluate(lag, dlq, spider_ages, source_ages, thresholds)
    report = HealthReport(now, lag, dlq, spider_ages, source_ages, problems)
    if problems:
        log.warning("%s", report.summary())
    return report


def _names(value: Sequence[str], what: str) -> list[str]:
    # A lone string is a Sequence too; iterating it would look up one-letter names.
    if isinstance(value, str | bytes):
        raise TypeError(f"{what} must be a list of names, not the string {value!r}")
    return list(dict.fromkeys(value))


def _now(conn: psycopg.Connection, now: datetime | None) -> datetime:
    # The database's clock by default: it stamped the rows whose age is measured.
    if now is None:
        return conn.execute("SELECT now()").fetchone()[0]
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, not {now!r}")
    return now


def _freshness(kind: str, name: str, newest: datetime | None, now: datetime) -> Freshness:
    return Freshness(kind, name, newest, now - newest if newest is not None else None)


def _stale(item: Freshness, limit: timedelta, never: str) -> list[Problem]:
    if item.newest_at is None or item.age is None:
        return [Problem(item.kind, item.name, never)]
    if item.age > limit:
        what = "newest finished run ended" if item.kind == "spider" else "newest row stored"
        return [
            Problem(
                item.kind,
                item.name,
                f"{what} {_duration(item.age)} ago at {item.newest_at.isoformat()} "
                f"(at most {_duration(limit)} tolerated)",
            )
        ]
    return []


def _describe_dlq(dlq: DlqRate) -> str:
    window = _duration(dlq.until - dlq.since)
    if dlq.rate is None:
        return f"no items in the last {window}"
    return (
        f"{dlq.rejected} of {dlq.received} items rejected ({_pct(dlq.rate)}) in the last {window}"
    )


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%".replace(".0%", "%")


def _duration(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h".replace(".0 h", " h")
    return f"{seconds / 86400:.1f} days".replace(".0 days", " days")


def _age_seconds(item: Freshness) -> float | None:
    return item.age.total_seconds() if item.age is not None else None
