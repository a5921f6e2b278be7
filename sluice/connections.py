"""Connection security for every client: TLS, SASL and CA files, decided in one place.

The settings carry each service's address and credentials, plus the security options named
below. This module turns them into what each client library takes:

* Kafka: a librdkafka configuration (:func:`kafka_config`) with ``security.protocol``,
  SASL SCRAM or AWS MSK IAM (OAUTHBEARER tokens signed by ``aws-msk-iam-sasl-signer-python``)
  and a CA file. :func:`kafka_client_config` makes it ready for a client (it adds the token
  callback, which cannot travel in JSON).
* PostgreSQL: ``sslmode`` and ``sslrootcert`` on every URL (libpq reads them from the URL).
* Redis: a ``rediss://`` URL verifies the server against the CA file.
* MongoDB: ``tls``, ``tlsCAFile`` and ``retryWrites=false`` (DocumentDB refuses retryable writes).

Airflow connections carry the same options in their extras (:mod:`sluice.airflow_local`
writes them), so tasks and triggers connect exactly as the processes do. :func:`redact`
removes every secret from text before it is shown.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    from sluice.settings import Settings

KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
#: SASL mechanisms Sluice configures; AWS_MSK_IAM is OAUTHBEARER with MSK's signed tokens.
KAFKA_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN", "AWS_MSK_IAM")
POSTGRES_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
#: The key of a Kafka configuration that asks for MSK IAM tokens for an AWS region. It is not
#: a librdkafka property: :func:`kafka_client_config` replaces it with the token callback.
MSK_IAM_REGION = "sluice.aws.region"
#: The client options each service's TLS settings become (URL query parameters, and the same
#: names in an Airflow connection's extra).
POSTGRES_TLS_OPTIONS = ("sslmode", "sslrootcert")
REDIS_TLS_OPTIONS = ("ssl_cert_reqs", "ssl_ca_certs")
MONGO_TLS_OPTIONS = ("tls", "tlsCAFile", "retryWrites")
#: Shown in place of a secret.
MASK = "***"
#: Shorter passwords are the local stack's demo logins, not secrets worth masking.
MIN_SECRET = 8


class ConnectionSettingsError(ValueError):
    """The security options contradict each other; the message names the variables."""


# -- Kafka --------------------------------------------------------------------------------------
def kafka_config(settings: Settings) -> dict[str, Any]:
    """The librdkafka properties that reach the cluster: addresses, TLS and SASL.

    JSON-serialisable (it is what an Airflow ``kafka`` connection's extra holds); pass it
    through :func:`kafka_client_config` before building a client.
    """
    protocol = settings.kafka_security_protocol.upper()
    mechanism = settings.kafka_sasl_mechanism.upper()
    config: dict[str, Any] = {"bootstrap.servers": settings.kafka_bootstrap}
    if protocol == "PLAINTEXT":
        return config
    config["security.protocol"] = protocol
    ca_file = settings.kafka_ca_file or settings.tls_ca_file
    if protocol.endswith("SSL") and ca_file:
        config["ssl.ca.location"] = ca_file
    if protocol.startswith("SASL"):
        if mechanism == "AWS_MSK_IAM":
            config["sasl.mechanism"] = "OAUTHBEARER"
            config[MSK_IAM_REGION] = settings.aws_region
        else:
            config["sasl.mechanism"] = mechanism
            config["sasl.username"] = settings.kafka_username
            config["sasl.password"] = settings.kafka_password
    return config


def kafka_client_config(connection: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """``connection`` (from :func:`kafka_config` or an Airflow extra) ready for a client.

    ``overrides`` are client properties (``group.id``, ``client.id``, ...). An MSK IAM
    connection gets an ``oauth_cb`` that signs a fresh token whenever librdkafka asks.
    """
    config = {**connection, **overrides}
    region = config.pop(MSK_IAM_REGION, None)
    if region:
        config["oauth_cb"] = functools.partial(_msk_iam_token, region)
    return config


def kafka_environment(connection: Mapping[str, Any]) -> dict[str, str]:
    """The ``SLUICE_KAFKA_*`` variables that rebuild ``connection`` through the settings.

    The inverse of :func:`kafka_config`, for code that holds an Airflow connection and needs
    a :class:`~sluice.settings.Settings`.
    """
    env = {
        "SLUICE_KAFKA_BOOTSTRAP": str(connection.get("bootstrap.servers", "")),
        "SLUICE_KAFKA_SECURITY_PROTOCOL": str(connection.get("security.protocol", "PLAINTEXT")),
        "SLUICE_KAFKA_CA_FILE": str(connection.get("ssl.ca.location", "")),
    }
    if connection.get(MSK_IAM_REGION):
        env["SLUICE_KAFKA_SASL_MECHANISM"] = "AWS_MSK_IAM"
        env["SLUICE_AWS_REGION"] = str(connection[MSK_IAM_REGION])
    elif connection.get("sasl.mechanism") or connection.get("sasl.mechanisms"):
        env["SLUICE_KAFKA_SASL_MECHANISM"] = str(
            connection.get("sasl.mechanism") or connection.get("sasl.mechanisms")
        )
        env["SLUICE_KAFKA_USERNAME"] = str(connection.get("sasl.username", ""))
        env["SLUICE_KAFKA_PASSWORD"] = str(connection.get("sasl.password", ""))
    return env


def _msk_iam_token(region: str, _oauth_config: str | None) -> tuple[str, float]:
    """A signed MSK IAM token and its expiry (seconds since the epoch), from the AWS chain."""
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
    return token, expiry_ms / 1000


def check_kafka(settings: Settings) -> None:
    """Raise :class:`ConnectionSettingsError` when the Kafka options cannot work together."""
    protocol = settings.kafka_security_protocol.upper()
    mechanism = settings.kafka_sasl_mechanism.upper()
    if protocol not in KAFKA_PROTOCOLS:
        raise ConnectionSettingsError(
            f"SLUICE_KAFKA_SECURITY_PROTOCOL={protocol!r} is not one of "
            f"{', '.join(KAFKA_PROTOCOLS)}"
        )
    if not protocol.startswith("SASL"):
        if mechanism:
            raise ConnectionSettingsError(
                f"SLUICE_KAFKA_SASL_MECHANISM={mechanism} needs "
                "SLUICE_KAFKA_SECURITY_PROTOCOL=SASL_SSL (or SASL_PLAINTEXT)"
            )
        return
    if mechanism not in KAFKA_MECHANISMS:
        raise ConnectionSettingsError(
            f"SLUICE_KAFKA_SASL_MECHANISM={mechanism!r} is not one of {', '.join(KAFKA_MECHANISMS)}"
        )
    if mechanism == "AWS_MSK_IAM":
        if not settings.aws_region:
            raise ConnectionSettingsError(
                "SLUICE_KAFKA_SASL_MECHANISM=AWS_MSK_IAM needs AWS_REGION (or SLUICE_AWS_REGION)"
            )
        if protocol != "SASL_SSL":
            raise ConnectionSettingsError("MSK IAM works over SASL_SSL only")
    elif not settings.kafka_username or not settings.kafka_password:
        raise ConnectionSettingsError(
            f"SLUICE_KAFKA_SASL_MECHANISM={mechanism} needs SLUICE_KAFKA_USERNAME "
            "and SLUICE_KAFKA_PASSWORD"
        )


# -- PostgreSQL, Redis, MongoDB -----------------------------------------------------------------
def with_query(url: str, extra: Mapping[str, str]) -> str:
    """``url`` with ``extra`` added to its query string; values the URL already has win."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if all(key in query for key in extra):
        return url
    for key, value in extra.items():
        query.setdefault(key, value)
    return urlunsplit(parts._replace(query=urlencode(query, safe="/:")))


def _with_login(url: str, login: str) -> str:
    """``url`` with ``login`` (``user:password``, already quoted) in place of its own."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{login}@{host}"))


def with_credentials(url: str, username: str, password: str) -> str:
    """``url`` logging in as ``username`` (may be empty) with ``password``."""
    return _with_login(url, f"{quote(username, safe='')}:{quote(password, safe='')}")


def postgres_tls(settings: Settings) -> dict[str, str]:
    """libpq's TLS parameters from the settings (empty: libpq's own default, ``prefer``)."""
    options: dict[str, str] = {}
    if settings.postgres_sslmode:
        options["sslmode"] = settings.postgres_sslmode
    ca_file = settings.postgres_ca_file or settings.tls_ca_file
    if ca_file and settings.postgres_sslmode not in ("", "disable"):
        options["sslrootcert"] = ca_file
    return options


def redis_tls(settings: Settings) -> dict[str, str]:
    """redis-py's TLS options for a ``rediss://`` URL (empty for ``redis://``)."""
    if urlsplit(settings.redis_url).scheme != "rediss":
        return {}
    options = {"ssl_cert_reqs": "required"}
    ca_file = settings.redis_ca_file or settings.tls_ca_file
    if ca_file:
        options["ssl_ca_certs"] = ca_file
    return options


def mongo_tls(settings: Settings) -> dict[str, str]:
    """pymongo's TLS and write options (``retryWrites=false`` for DocumentDB)."""
    options: dict[str, str] = {}
    if settings.mongo_tls:
        options["tls"] = "true"
        ca_file = settings.mongo_ca_file or settings.tls_ca_file
        if ca_file:
            options["tlsCAFile"] = ca_file
    if not settings.mongo_retry_writes:
        options["retryWrites"] = "false"
    return options


# -- secrets ------------------------------------------------------------------------------------
def secrets_of(settings: Settings) -> list[str]:
    """Every password the settings hold (URL passwords, SASL and Airflow passwords).

    The local stack's demo logins (a password equal to its user name, or shorter than
    :data:`MIN_SECRET` characters, such as ``sluice:sluice``) are not secrets: masking every
    "sluice" would make the logs unreadable.
    """
    found = [
        settings.kafka_password,
        settings.airflow_password,
        settings.redis_password,
        settings.object_store_secret_key,
    ]
    for url in (
        settings.postgres_url,
        settings.postgres_writer_url,
        settings.postgres_reader_url,
        settings.airflow_db_url,
        settings.redis_url,
        settings.mongo_url,
    ):
        parts = urlsplit(url)
        if parts.password and parts.password != parts.username:
            found.extend({parts.password, unquote(parts.password)})
    # Longest first, so a secret containing another is masked whole.
    return sorted({s for s in found if len(s) >= MIN_SECRET}, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` replaced by :data:`MASK`."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


class RedactSecrets(logging.Filter):
    """A logging filter that masks the given secrets in every record it passes on."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the record's message once, masked; exceptions are rendered masked too."""
        message = record.getMessage()
        masked = redact(message, self.secrets)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info), self.secrets
            )
        return True


def redact_url(url: str) -> str:
    """``url`` with its password masked (for messages that name a service's address)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    return _with_login(url, f"{parts.username or ''}:{MASK}")
