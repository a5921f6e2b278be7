"""One settings object for every Sluice process, read from the environment once.

Values come from the process environment first, then from a ``.env`` file in the project
directory, then from the defaults below (the addresses of ``DESIGN.md``). Every name is
documented in ``.env.example``. Build the object once at process start with
:func:`load_settings` and pass it down; nothing else in Sluice reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from sluice import connections

ENV_PREFIX = "SLUICE_"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise SettingsError(
            f"{ENV_PREFIX}{name.upper()}={value!r} is not a URL of the form "
            f"{schemes[0]}://host:port/..."
        )
    try:
        parts.port  # noqa: B018 - parsing the port validates it
    except ValueError as exc:
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}={value!r}: {exc}") from exc
    return value


def _host_port(name: str, value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}={value!r} is not host:port")
    return value


@dataclass(frozen=True)
class Settings:
    """Every address, secret and path a Sluice process needs."""

    project_dir: Path
    # PostgreSQL: the owner runs migrations, the writer is for processors, the reader for the API.
    postgres_url: str = "postgresql://sluice:sluice@127.0.0.1:5432/sluice"
    postgres_writer_url: str = "postgresql://sluice_writer:sluice_writer@127.0.0.1:5432/sluice"
    postgres_reader_url: str = "postgresql://sluice_reader:sluice_reader@127.0.0.1:5432/sluice"
    redis_url: str = "redis://127.0.0.1:6379/0"
    kafka_bootstrap: str = "127.0.0.1:9092"
    mongo_url: str = "mongodb://127.0.0.1:27017/sluice"
    # Connection security (sluice/connections.py turns these into each client's options).
    # One CA file for every service, unless a service names its own; empty: the system's.
    tls_ca_file: str = ""
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str = ""
    kafka_username: str = ""
    kafka_password: str = ""
    kafka_ca_file: str = ""
    aws_region: str = ""
    postgres_sslmode: str = ""
    postgres_ca_file: str = ""
    redis_ca_file: str = ""
    mongo_tls: bool = False
    mongo_ca_file: str = ""
    mongo_retry_writes: bool = True
    # A Redis ACL user and password (or an ElastiCache AUTH token) for a URL that has none.
    redis_username: str = ""
    redis_password: str = ""
    # The secure native stack (`sluice stack up --secure`): TLS and SASL for every client.
    stack_secure: bool = False
    airflow_url: str = "http://127.0.0.1:8080"
    # Airflow's own metadata database (in the stack's PostgreSQL) and its UI/API login.
    airflow_db_url: str = "postgresql://airflow:airflow@127.0.0.1:5432/airflow"
    airflow_user: str = "admin"
    # Airflow's auth manager: "simple" (one local admin) or "fab" (users and the roles of
    # sluice/airflow_roles.py in the metadata database).
    airflow_auth: str = "simple"
    airflow_password: str = "admin"  # noqa: S105 - the local default; .env.example says so
    api_url: str = "http://127.0.0.1:5000"
    demo_site_url: str = "http://127.0.0.1:8000"
    prometheus_url: str = "http://127.0.0.1:9090"
    # The native stack: where it keeps data and logs, and what it runs.
    stack_dir: Path = Path(".stack")  # relative paths are taken from the project directory
    cache_dir: Path = Path("~/.cache/sluice")
    # Where export_daily writes CSV files and nightly_backup its backup sets (relative: checkout).
    export_dir: Path = Path(".stack/exports")
    backup_dir: Path = Path(".stack/backups")
    backup_keep_days: int = 7
    # How many days each store keeps its data (0: forever); see sluice/retention.py.
    retain_raw_items_days: int = 90
    retain_rejected_items_days: int = 90
    retain_dq_results_days: int = 180
    retain_reports_days: int = 90
    retain_exports_days: int = 365
    # A product that this many complete crawls of its source in a row did not see becomes
    # discontinued (sluice/crawl/absences.py).
    discontinue_after_crawls: int = 3
    # A reprocess_raw run over more days, or more stored raw items, than these waits for an
    # analyst's approval (Required Actions in the Airflow UI) before it rewrites rows.
    approval_max_days: int = 7
    approval_max_rows: int = 100_000
    # The object store (S3) that keeps backup sets, daily exports and DAG bundles: the native
    # stack's SeaweedFS locally, AWS S3 in the cluster (auth "aws": the SDK's credential chain,
    # e.g. the pod's IAM role; "keys": the access and secret key below).
    object_store_url: str = "http://127.0.0.1:8333"
    object_store_auth: str = "keys"
    object_store_access_key: str = "sluice"
    object_store_secret_key: str = "sluice-object-store"  # noqa: S105 - the local default
    backup_bucket: str = "sluice-backups"
    export_bucket: str = "sluice-exports"
    bundle_bucket: str = "sluice-dag-bundles"
    # Airflow's DAGs from a Git branch (GitDagBundle: every run records the commit it ran)
    # instead of the checkout's dags/: a repository URL or path, where `sluice bundle
    # publish-git` publishes (empty: the checkout's dags/, LocalDagBundle).
    dag_bundle_git_url: str = ""
    dag_bundle_git_branch: str = "dags"
    # Seconds between Airflow's looks at its DAG bundle: how soon a change reaches new runs.
    dag_bundle_refresh: int = 30
    kafka_controller_port: int = 9093
    kafka_heap: str = "512m"
    pg_bindir: Path = Path("/usr/lib/postgresql/15/bin")
    redis_server: str = "redis-server"
    java: str = "java"
    # Crawling: the browser scrapy-playwright drives, and proxies to rotate (comma-separated).
    chromium: str = "/usr/bin/chromium"
    proxies: str = ""
    # The spider worker pool: Scrapy processes it may run at once across every active crawl.
    worker_slots: int = 4
    # Seconds a pool replica's claim on a worker slot outlives its last renewal: how long a
    # killed replica's workers stay missing before another replica takes their slots.
    pool_claim_ttl: int = 15
    # Seconds a crawl worker's lease on a request outlives its last renewal: how long a killed
    # worker's pages wait before another worker fetches them.
    lease_ttl: int = 30
    # Restarts of crashed workers one crawl may have, over every replica, before it fails.
    pool_max_restarts: int = 3
    # Seconds an ended crawl's Redis keys live on (for `sluice report`); then Redis drops them.
    crawl_key_ttl: int = 7 * 24 * 3600
    # A product found unchanged since it was last published goes out as a small "seen" notice
    # instead of the whole item; its fingerprint is kept this many days, so every product is
    # published whole again at least that often.
    skip_unchanged: bool = True
    unchanged_memory_days: int = 7
    # Webhooks: attempts per change before it is dead-lettered, the first backoff between them
    # (doubling), and each request's timeout in seconds.
    webhook_attempts: int = 5
    webhook_backoff_ms: int = 1000
    webhook_timeout: int = 10
    # Prometheus metrics of a long-running process (processors, worker pool, state exporter):
    # served on metrics_host:metrics_port; 0 serves none. `sluice up` gives each its own port.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    # The native stack gives its archiver, normalizer, worker pool and state exporter the
    # metrics ports from this one up (a second stack on the same machine moves it).
    metrics_base_port: int = 9201
    log_level: str = "INFO"
    # Test-only ordering bugs the fault drills must catch (tests/drills shows each one fail):
    # processors commit a batch's offsets before writing it; crawl workers treat a request as
    # done before Kafka has confirmed its items. Never set in a deployment.
    drill_commit_before_write: bool = False
    drill_ack_before_delivery: bool = False

    def __post_init__(self) -> None:
        # Derived defaults depend on the project directory, so they are filled in here.
        for name in ("stack_dir", "export_dir", "backup_dir"):
            if not getattr(self, name).is_absolute():
                object.__setattr__(self, name, self.project_dir / getattr(self, name))
        object.__setattr__(self, "cache_dir", self.cache_dir.expanduser())
        for name in (
            "postgres_url",
            "postgres_writer_url",
            "postgres_reader_url",
            "airflow_db_url",
        ):
            _url(name, getattr(self, name), ("postgresql", "postgres"))
        _url("redis_url", self.redis_url, ("redis", "rediss"))
        _url("mongo_url", self.mongo_url, ("mongodb",))
        self._secure_urls()
        if self.object_store_url:
            _url("object_store_url", self.object_store_url, ("http", "https"))
        if self.airflow_auth not in ("simple", "fab"):
            raise SettingsError(
                f"{ENV_PREFIX}AIRFLOW_AUTH={self.airflow_auth!r} is not simple or fab"
            )
        if self.object_store_auth not in ("keys", "aws"):
            raise SettingsError(
                f"{ENV_PREFIX}OBJECT_STORE_AUTH={self.object_store_auth!r} is not keys or aws"
            )
        for name in ("airflow_url", "api_url", "demo_site_url", "prometheus_url"):
            _url(name, getattr(self, name), ("http", "https"))
        for address in self.kafka_bootstrap.split(","):
            _host_port("kafka_bootstrap", address.strip())
        if not 0 < self.kafka_controller_port < 65536:
            raise SettingsError(
                f"{ENV_PREFIX}KAFKA_CONTROLLER_PORT={self.kafka_controller_port} is not a port"
            )
        if self.backup_keep_days < 1:
            raise SettingsError(
                f"{ENV_PREFIX}BACKUP_KEEP_DAYS={self.backup_keep_days} must be at least 1"
            )
        for name in (
            "retain_raw_items_days",
            "retain_rejected_items_days",
            "retain_dq_results_days",
            "retain_reports_days",
            "retain_exports_days",
        ):
            if getattr(self, name) < 0:
                raise SettingsError(
                    f"{ENV_PREFIX}{name.upper()}={getattr(self, name)} must not be negative "
                    "(0 keeps the data forever)"
                )
        for name in ("approval_max_days", "approval_max_rows", "discontinue_after_crawls"):
            if getattr(self, name) < 1:
                raise SettingsError(
                    f"{ENV_PREFIX}{name.upper()}={getattr(self, name)} must be at least 1"
                )
        if self.worker_slots < 1:
            raise SettingsError(f"{ENV_PREFIX}WORKER_SLOTS={self.worker_slots} must be at least 1")
        if self.pool_claim_ttl < 2:
            raise SettingsError(
                f"{ENV_PREFIX}POOL_CLAIM_TTL={self.pool_claim_ttl} must be at least 2 seconds"
            )
        if self.crawl_key_ttl < 1:
            raise SettingsError(
                f"{ENV_PREFIX}CRAWL_KEY_TTL={self.crawl_key_ttl} must be at least 1 second"
            )
        if self.lease_ttl < 3:
            raise SettingsError(
                f"{ENV_PREFIX}LEASE_TTL={self.lease_ttl} must be at least 3 seconds"
            )
        if self.unchanged_memory_days < 1:
            raise SettingsError(
                f"{ENV_PREFIX}UNCHANGED_MEMORY_DAYS={self.unchanged_memory_days} must be at least 1"
            )
        if self.webhook_attempts < 1:
            raise SettingsError(
                f"{ENV_PREFIX}WEBHOOK_ATTEMPTS={self.webhook_attempts} must be at least 1"
            )
        if self.webhook_backoff_ms < 0:
            raise SettingsError(
                f"{ENV_PREFIX}WEBHOOK_BACKOFF_MS={self.webhook_backoff_ms} must not be negative"
            )
        if self.webhook_timeout < 1:
            raise SettingsError(
                f"{ENV_PREFIX}WEBHOOK_TIMEOUT={self.webhook_timeout} must be at least 1 second"
            )
        if self.pool_max_restarts < 0:
            raise SettingsError(
                f"{ENV_PREFIX}POOL_MAX_RESTARTS={self.pool_max_restarts} must not be negative"
            )
        if not 0 <= self.metrics_port < 65536:
            raise SettingsError(
                f"{ENV_PREFIX}METRICS_PORT={self.metrics_port} is not a port (0 serves none)"
            )
        if not 0 < self.metrics_base_port < 65536 - 5:
            raise SettingsError(
                f"{ENV_PREFIX}METRICS_BASE_PORT={self.metrics_base_port} is not a port"
            )
        if self.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise SettingsError(f"{ENV_PREFIX}LOG_LEVEL={self.log_level!r} is not a log level")

    def _secure_urls(self) -> None:
        """Check the security options and put each service's TLS options into its URL."""
        if self.stack_secure:
            self._secure_stack_defaults()
        if self.redis_password and not urlsplit(self.redis_url).password:
            object.__setattr__(
                self,
                "redis_url",
                connections.with_credentials(
                    self.redis_url, self.redis_username, self.redis_password
                ),
            )
        try:
            # The secure stack's passwords exist once `stack up --secure` has made them.
            if not (self.stack_secure and not self.kafka_password):
                connections.check_kafka(self)
        except connections.ConnectionSettingsError as exc:
            raise SettingsError(str(exc)) from exc
        if self.postgres_sslmode not in ("", *connections.POSTGRES_SSLMODES):
            raise SettingsError(
                f"{ENV_PREFIX}POSTGRES_SSLMODE={self.postgres_sslmode!r} is not one of "
                f"{', '.join(connections.POSTGRES_SSLMODES)}"
            )
        for name in (
            "tls_ca_file",
            "kafka_ca_file",
            "postgres_ca_file",
            "redis_ca_file",
            "mongo_ca_file",
        ):
            path = getattr(self, name)
            # The secure stack's own CA appears with its first `stack up --secure`.
            if path and not Path(path).is_file() and not self.stack_secure:
                raise SettingsError(f"{ENV_PREFIX}{name.upper()}={path!r} is not a file")
        pg = connections.postgres_tls(self)
        for name in (
            "postgres_url",
            "postgres_writer_url",
            "postgres_reader_url",
            "airflow_db_url",
        ):
            object.__setattr__(self, name, connections.with_query(getattr(self, name), pg))
        object.__setattr__(
            self, "redis_url", connections.with_query(self.redis_url, connections.redis_tls(self))
        )
        object.__setattr__(
            self, "mongo_url", connections.with_query(self.mongo_url, connections.mongo_tls(self))
        )

    def _secure_stack_defaults(self) -> None:
        """What the secure native stack serves: TLS everywhere, SASL SCRAM for Kafka."""
        from sluice.stack import secure

        defaults = {
            "tls_ca_file": str(secure.folder(self.stack_dir) / "ca.pem"),
            "postgres_sslmode": "verify-full",
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": "SCRAM-SHA-512",
            "mongo_tls": True,
        }
        for name, value in defaults.items():
            if getattr(self, name) in ("", False, "PLAINTEXT"):
                object.__setattr__(self, name, value)
        parts = urlsplit(self.redis_url)
        if parts.scheme == "redis":
            object.__setattr__(self, "redis_url", parts._replace(scheme="rediss").geturl())

    def __repr__(self) -> str:
        # Settings end up in tracebacks and debug logs: never with their passwords.
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return f"Settings({connections.redact(shown, connections.secrets_of(self))})"

    def buckets(self) -> tuple[str, str, str]:
        """The object store's buckets: backups, exports, DAG bundles."""
        return (self.backup_bucket, self.export_bucket, self.bundle_bucket)

    @property
    def kafka(self) -> dict[str, object]:
        """The Kafka connection: librdkafka properties with addresses, TLS and SASL."""
        return connections.kafka_config(self)


def find_project_dir(start: Path | None = None) -> Path:
    """Return the nearest directory at or above ``start`` holding Sluice's pyproject.toml."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        marker = candidate / "pyproject.toml"
        if marker.is_file() and 'name = "sluice"' in marker.read_text(encoding="utf-8"):
            return candidate
    return here


def _coerce(field_type: object, name: str, raw: str) -> object:
    if field_type in (int, "int"):
        try:
            return int(raw)
        except ValueError as exc:
            raise SettingsError(
                f"{ENV_PREFIX}{name.upper()}={raw!r} is not a whole number"
            ) from exc
    if field_type in (Path, "Path"):
        return Path(raw).expanduser()
    if field_type in (bool, "bool"):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not true or false")
    return raw


def _dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def secure_layers(stack_dir: Path, component: str) -> list[Path]:
    """The settings layers ``sluice stack up --secure`` wrote (see sluice.stack.secure)."""
    from sluice.stack import secure

    try:
        return secure.layers(stack_dir, component)
    except ValueError as exc:
        raise SettingsError(str(exc)) from exc


def load_settings(
    environ: Mapping[str, str] | None = None, project_dir: Path | None = None
) -> Settings:
    """Build :class:`Settings` from ``environ`` (default: the process environment) and ``.env``.

    The project directory is ``SLUICE_PROJECT_DIR`` or the nearest Sluice checkout above the
    working directory; its ``.env`` fills in what the environment does not set.
    """
    env = dict(os.environ if environ is None else environ)
    root = Path(env.get(f"{ENV_PREFIX}PROJECT_DIR") or project_dir or find_project_dir())
    merged = _dotenv(root / ".env")
    # The secure stack's settings (passwords it generated) come over .env, under the
    # environment, once `sluice stack up --secure` has written them.
    stack_dir = Path(
        env.get(f"{ENV_PREFIX}STACK_DIR") or merged.get(f"{ENV_PREFIX}STACK_DIR") or ".stack"
    ).expanduser()
    component = env.get(f"{ENV_PREFIX}COMPONENT", "")
    for layer in secure_layers(
        stack_dir if stack_dir.is_absolute() else root / stack_dir, component
    ):
        merged.update(_dotenv(layer))
    merged.update(env)

    values: dict[str, object] = {"project_dir": root}
    for field in fields(Settings):
        if field.name == "project_dir":
            continue
        raw = merged.get(f"{ENV_PREFIX}{field.name.upper()}")
        if raw is not None and raw != "":
            values[field.name] = _coerce(field.type, field.name, raw)
    # The AWS SDKs' own variable names the region when Sluice's does not.
    if "aws_region" not in values and merged.get("AWS_REGION"):
        values["aws_region"] = merged["AWS_REGION"]
    if "cache_dir" not in values and merged.get("XDG_CACHE_HOME"):
        values["cache_dir"] = Path(merged["XDG_CACHE_HOME"]) / "sluice"
    return Settings(**values)  # type: ignore[arg-type]
