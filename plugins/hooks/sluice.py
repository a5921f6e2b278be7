"""One hook for Sluice's four services, through the providers' hooks and `sluice_*` connections."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

from airflow.sdk import BaseHook

from sluice.connections import (
    MONGO_TLS_OPTIONS,
    POSTGRES_TLS_OPTIONS,
    REDIS_TLS_OPTIONS,
    kafka_environment,
    with_query,
)
from sluice.settings import Settings, load_settings

POSTGRES_CONN_ID = "sluice_postgres"
MONGO_CONN_ID = "sluice_mongo"
REDIS_CONN_ID = "sluice_redis"
KAFKA_CONN_ID = "sluice_kafka"
#: the Kafka connection's consumer-group options, for the crawl-request watcher alone
CONSUMER_GROUP_OPTIONS = ("group.id", "auto.offset.reset", "enable.auto.commit")


def _credentials(login: str | None, password: str | None) -> str:
    if not login and not password:
        return ""
    return f"{quote(login or '', safe='')}:{quote(password or '', safe='')}@"


def _tls(url: str, extra: dict[str, Any], names: tuple[str, ...]) -> str:
    """``url`` with the TLS options among the connection's ``extra`` as its query."""
    found = {
        name: str(extra[name]).lower() if isinstance(extra[name], bool) else str(extra[name])
        for name in names
        if name in extra
    }
    return with_query(url, found)


class SluiceHook(BaseHook):
    """Addresses and clients of PostgreSQL, MongoDB, Redis and Kafka from Airflow connections.

    The library code in ``sluice/`` takes a :class:`~sluice.settings.Settings`;
    :meth:`settings` builds one whose service addresses come from the connections, so a task
    talks to exactly the services its Airflow deployment is configured with.
    """

    # As Airflow's provider hooks declare them: the connection a default hook reads first
    # (the other three services have connections of their own, named in __init__).
    conn_name_attr = "postgres_conn_id"
    default_conn_name = POSTGRES_CONN_ID
    conn_type = "postgres"
    hook_name = "Sluice"

    def __init__(
        self,
        postgres_conn_id: str = POSTGRES_CONN_ID,
        mongo_conn_id: str = MONGO_CONN_ID,
        redis_conn_id: str = REDIS_CONN_ID,
        kafka_conn_id: str = KAFKA_CONN_ID,
    ) -> None:
        super().__init__()
        self.postgres_conn_id = postgres_conn_id
        self.mongo_conn_id = mongo_conn_id
        self.redis_conn_id = redis_conn_id
        self.kafka_conn_id = kafka_conn_id

    # -- clients through the providers' hooks ---------------------------------------------------
    def postgres(self):
        """A psycopg connection from ``PostgresHook`` (autocommit off; use as a context)."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        return PostgresHook(postgres_conn_id=self.postgres_conn_id).get_conn()

    def redis(self):
        """A Redis client from ``RedisHook``."""
        from airflow.providers.redis.hooks.redis import RedisHook

        return RedisHook(redis_conn_id=self.redis_conn_id).get_conn()

    def mongo_database(self):
        """The Sluice database from ``MongoHook`` (the connection's schema names it)."""
        from airflow.providers.mongo.hooks.mongo import MongoHook

        hook = MongoHook(mongo_conn_id=self.mongo_conn_id)
        return hook.get_conn()[hook.connection.schema or "sluice"]

    def kafka_config(self) -> dict[str, Any]:
        """librdkafka settings of the Kafka connection, read by the Kafka provider's hook."""
        from airflow.providers.apache.kafka.hooks.client import KafkaAdminClientHook

        hook = KafkaAdminClientHook(kafka_config_id=self.kafka_conn_id)
        return dict(hook.get_connection(hook.kafka_config_id).extra_dejson)

    def kafka_connection(self) -> dict[str, Any]:
        """The Kafka connection (addresses, TLS, SASL) without the consumer group's options."""
        config = self.kafka_config()
        for consumer_only in CONSUMER_GROUP_OPTIONS:
            config.pop(consumer_only, None)
        if not config.get("bootstrap.servers"):
            raise ValueError(
                f"Airflow connection {self.kafka_conn_id} has no 'bootstrap.servers' in its extra"
            )
        return config

    # -- addresses ------------------------------------------------------------------------------
    def postgres_url(self) -> str:
        """``postgresql://`` URL of the PostgreSQL connection."""
        conn = self.get_connection(self.postgres_conn_id)
        auth = _credentials(conn.login, conn.password)
        url = f"postgresql://{auth}{conn.host}:{conn.port or 5432}/{conn.schema or 'sluice'}"
        return _tls(url, conn.extra_dejson, POSTGRES_TLS_OPTIONS)

    def redis_url(self) -> str:
        """``redis://`` URL of the Redis connection (``rediss://`` when its extra says ssl)."""
        conn = self.get_connection(self.redis_conn_id)
        extra = conn.extra_dejson
        db = extra.get("db", 0)
        auth = _credentials(conn.login, conn.password)
        if str(extra.get("ssl", "")).lower() != "true":
            return f"redis://{auth}{conn.host}:{conn.port or 6379}/{db}"
        return _tls(
            f"rediss://{auth}{conn.host}:{conn.port or 6379}/{db}", extra, REDIS_TLS_OPTIONS
        )

    def mongo_url(self) -> str:
        """``mongodb://`` URL of the MongoDB connection."""
        conn = self.get_connection(self.mongo_conn_id)
        auth = _credentials(conn.login, conn.password)
        url = f"mongodb://{auth}{conn.host}:{conn.port or 27017}/{conn.schema or 'sluice'}"
        return _tls(url, conn.extra_dejson, MONGO_TLS_OPTIONS)

    def settings(self) -> Settings:
        """Sluice settings whose service addresses are those of the connections."""
        kafka = self.kafka_connection()
        postgres = self.postgres_url()
        return load_settings(
            {
                **os.environ,
                "SLUICE_POSTGRES_URL": postgres,
                "SLUICE_POSTGRES_WRITER_URL": postgres,
                "SLUICE_REDIS_URL": self.redis_url(),
                "SLUICE_MONGO_URL": self.mongo_url(),
                **kafka_environment(kafka),
            }
        )
