"""Can this process reach each service with its settings? One bounded probe per service.

Each probe connects the way Sluice's clients do (same URL, same TLS and SASL options), asks
the service one cheap question, and on failure raises :class:`ConnectionProblem` with a cause
a user can act on: a wrong password, a certificate the CA does not vouch for, an expired
certificate, a plaintext client on a TLS port, an unreachable address. ``sluice check`` runs
them all at once, so a misconfigured deployment fails in seconds with one line per service.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sluice.connections import redact, redact_url, secrets_of
from sluice.settings import Settings

#: Seconds each probe may take; they run side by side, so all of them take about as long.
TIMEOUT = 6.0


class ConnectionProblem(Exception):
    """``service`` cannot be used; ``cause`` says why in words a user can act on."""

    def __init__(self, service: str, cause: str) -> None:
        super().__init__(f"{service}: {cause}")
        self.service = service
        self.cause = cause


@dataclass(frozen=True)
class ProbeResult:
    """What one probe found: a summary when the service answered, else the problem."""

    service: str
    address: str
    ok: bool
    detail: str


# -- causes -------------------------------------------------------------------------------------
#: (text the client library reports, the cause shown), first match wins; lower case.
CAUSES: tuple[tuple[str, str], ...] = (
    ("certificate has expired", "the server's TLS certificate has expired"),
    ("certificate is not yet valid", "the server's TLS certificate is not valid yet"),
    (
        "unable to get local issuer certificate",
        "the server's TLS certificate is not signed by a trusted CA (check the CA file)",
    ),
    (
        "self-signed certificate in certificate chain",
        "the server's TLS certificate is not signed by a trusted CA (check the CA file)",
    ),
    (
        # OpenSSL 3 on a CA of the same name whose key did not sign the certificate.
        "signature failure",
        "the server's TLS certificate is not signed by a trusted CA (check the CA file)",
    ),
    (
        "certificate verify failed",
        "the server's TLS certificate failed verification (check the CA file)",
    ),
    ("password authentication failed", "wrong user name or password"),
    ("wrongpass", "wrong user name or password"),
    ("invalid username-password pair", "wrong user name or password"),
    ("invalid credentials", "wrong user name or password"),
    ("authentication failed", "wrong user name or password"),
    ("no encryption", "the server refuses connections without TLS (turn TLS on)"),
    ("server does not support ssl", "the server does not speak TLS (turn TLS off)"),
    ("wrong version number", "the server does not speak TLS on this port (turn TLS off)"),
    ("connection refused", "nothing listens at this address"),
    ("name or service not known", "the host name does not resolve"),
)


def cause_of(text: str, plaintext_hint: str) -> str:
    """The cause a user can act on for a client library's error ``text``."""
    lowered = text.lower()
    for needle, cause in CAUSES:
        if needle in lowered:
            return cause
    # The server hung up on a plaintext hello: it expects TLS (or another SASL setup).
    if any(
        sign in lowered
        for sign in ("connection reset", "connection closed", "closed by peer", "eof")
    ):
        return plaintext_hint
    return text.strip().splitlines()[0] if text.strip() else "no answer"


# -- probes -------------------------------------------------------------------------------------
def probe_postgres(url: str, timeout: float = TIMEOUT) -> str:
    """``server_version`` of the PostgreSQL at ``url``, over the URL's TLS options."""
    import psycopg

    from sluice.storage.postgres import connect

    try:
        with connect(url, timeout=timeout) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            tls = conn.pgconn.ssl_in_use
    except psycopg.Error as exc:
        raise ConnectionProblem(
            "postgres",
            cause_of(str(exc), "the server closed the connection (does it expect TLS?)"),
        ) from exc
    return f"PostgreSQL {version}{' over TLS' if tls else ''}"


def probe_redis(url: str, timeout: float = TIMEOUT) -> str:
    """``redis_version`` of the Redis at ``url`` (``rediss://``: over TLS)."""
    import redis

    from sluice.storage.redis import client

    try:
        conn = client(url, timeout=timeout)
        version = conn.info("server").get("redis_version")
    except redis.RedisError as exc:
        raise ConnectionProblem(
            "redis",
            cause_of(
                str(exc),
                "the server closed the connection: it expects TLS (use a rediss:// URL)",
            ),
        ) from exc
    return f"Redis {version}{' over TLS' if url.startswith('rediss:') else ''}"


def probe_mongo(url: str, timeout: float = TIMEOUT) -> str:
    """The server version of the MongoDB at ``url``."""
    import pymongo.errors

    from sluice.storage.mongo import client

    try:
        with client(url, timeout=timeout) as conn:
            version = conn.server_info().get("version", "?")
    except pymongo.errors.PyMongoError as exc:
        raise ConnectionProblem(
            "mongo",
            cause_of(
                str(exc), "the server closed the connection: it expects TLS (SLUICE_MONGO_TLS)"
            ),
        ) from exc
    return f"MongoDB wire {version}"


def probe_kafka(connection: Mapping[str, Any], timeout: float = TIMEOUT) -> str:
    """The broker count of the Kafka cluster, reached with ``connection``.

    librdkafka retries a failed login forever and reports each failure to the error callback,
    which only a poll serves: the probe asks for metadata in short rounds, polls between
    them, and gives up at the first error that names a cause or when ``timeout`` runs out.
    """
    from confluent_kafka import KafkaException

    from sluice.kafka.admin import admin_client

    errors: list[str] = []
    admin = admin_client(connection, error_cb=lambda e: errors.append(e.str()), log_level=0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            brokers = len(admin.list_topics(timeout=0.5).brokers)
        except KafkaException as exc:
            errors.append(str(exc))
            brokers = 0
        if brokers:
            return f"Kafka, {brokers} broker(s)"
        admin.poll(0)
        # "brokers are down" and metadata timeouts say nothing of the cause: keep waiting.
        telling = [e for e in errors if "brokers are down" not in e and "_TRANSPORT" not in e]
        if telling:
            errors = telling
            break
    hint = (
        "the broker closed the connection: check SLUICE_KAFKA_SECURITY_PROTOCOL "
        "(it may expect TLS or SASL)"
    )
    if not telling:
        # Only transport failures: either nothing listens, or the broker hangs up on a
        # client that speaks the wrong protocol (librdkafka tells these apart only in logs).
        first = str(connection.get("bootstrap.servers", "")).split(",")[0].strip()
        cause = hint if _listens(first) else f"nothing listens at {first}"
        raise ConnectionProblem("kafka", cause)
    raise ConnectionProblem("kafka", cause_of(errors[-1], hint))


def _listens(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except (OSError, ValueError):
        return False


def probe_all(settings: Settings, timeout: float = TIMEOUT) -> list[ProbeResult]:
    """Every service's probe, side by side; passwords never appear in what is returned."""
    probes: dict[str, tuple[str, Callable[[], str]]] = {
        "postgres": (settings.postgres_url, lambda: probe_postgres(settings.postgres_url, timeout)),
        "redis": (settings.redis_url, lambda: probe_redis(settings.redis_url, timeout)),
        "kafka": (settings.kafka_bootstrap, lambda: probe_kafka(settings.kafka, timeout)),
        "mongo": (settings.mongo_url, lambda: probe_mongo(settings.mongo_url, timeout)),
    }
    hidden = secrets_of(settings)

    def run(name: str) -> ProbeResult:
        address, probe = probes[name]
        shown = redact_url(address).split("?")[0]
        try:
            return ProbeResult(name, shown, True, probe())
        except ConnectionProblem as problem:
            return ProbeResult(name, shown, False, redact(problem.cause, hidden))

    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        return list(pool.map(run, probes))
