"""Connection security: what each client is given, from the settings alone."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from sluice import connections
from sluice.airflow_local import connections as airflow_connections
from sluice.settings import SettingsError, load_settings


def settings(tmp_path: Path, **env: str):
    return load_settings({f"SLUICE_{k.upper()}": v for k, v in env.items()}, project_dir=tmp_path)


@pytest.fixture
def ca_file(tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    path.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    return str(path)


def test_plaintext_kafka_gets_its_addresses_only(tmp_path):
    assert settings(tmp_path).kafka == {"bootstrap.servers": "127.0.0.1:9092"}


def test_scram_over_tls_names_mechanism_user_and_ca(tmp_path, ca_file):
    s = settings(
        tmp_path,
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_username="spider",
        kafka_password="s3cret-pass",
        tls_ca_file=ca_file,
    )
    assert s.kafka == {
        "bootstrap.servers": "127.0.0.1:9092",
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": ca_file,
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "spider",
        "sasl.password": "s3cret-pass",
    }


def test_msk_iam_gets_a_token_callback_instead_of_a_password(tmp_path):
    s = load_settings(
        {
            "SLUICE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "SLUICE_KAFKA_SASL_MECHANISM": "AWS_MSK_IAM",
            "AWS_REGION": "eu-west-1",
        },
        project_dir=tmp_path,
    )
    client = connections.kafka_client_config(s.kafka, **{"client.id": "x"})
    assert client["sasl.mechanism"] == "OAUTHBEARER"
    assert connections.MSK_IAM_REGION not in client  # librdkafka would refuse the key
    assert client["oauth_cb"].args == ("eu-west-1",)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"kafka_security_protocol": "TLS"}, "SLUICE_KAFKA_SECURITY_PROTOCOL='TLS'"),
        ({"kafka_sasl_mechanism": "SCRAM-SHA-512"}, "needs SLUICE_KAFKA_SECURITY_PROTOCOL"),
        (
            {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "SCRAM-SHA-512"},
            "needs SLUICE_KAFKA_USERNAME",
        ),
        (
            {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "AWS_MSK_IAM"},
            "needs AWS_REGION",
        ),
        ({"postgres_sslmode": "always"}, "SLUICE_POSTGRES_SSLMODE='always'"),
        ({"tls_ca_file": "/nowhere/ca.pem"}, "SLUICE_TLS_CA_FILE='/nowhere/ca.pem' is not a file"),
        ({"mongo_tls": "maybe"}, "SLUICE_MONGO_TLS='maybe' is not true or false"),
    ],
)
def test_contradicting_security_options_are_refused_by_name(tmp_path, env, named):
    with pytest.raises(SettingsError, match=named.replace("(", r"\(")):
        settings(tmp_path, **env)


def test_tls_options_reach_every_url(tmp_path, ca_file):
    s = settings(
        tmp_path,
        postgres_sslmode="verify-full",
        tls_ca_file=ca_file,
        redis_url="rediss://sluice:pw@cache:6380/0",
        mongo_tls="true",
        mongo_retry_writes="false",
    )
    for url in (s.postgres_url, s.postgres_writer_url, s.postgres_reader_url, s.airflow_db_url):
        assert url.endswith(f"?sslmode=verify-full&sslrootcert={ca_file}")
    assert (
        s.redis_url
        == f"rediss://sluice:pw@cache:6380/0?ssl_cert_reqs=required&ssl_ca_certs={ca_file}"
    )
    assert s.mongo_url.endswith(f"?tls=true&tlsCAFile={ca_file}&retryWrites=false")


def test_an_option_written_in_the_url_wins(tmp_path, ca_file):
    s = settings(
        tmp_path,
        postgres_url="postgresql://a:b@db:5432/sluice?sslmode=require",
        postgres_sslmode="verify-full",
        tls_ca_file=ca_file,
    )
    assert "sslmode=require" in s.postgres_url and "verify-full" not in s.postgres_url


def test_airflow_connections_carry_the_same_security(tmp_path, ca_file):
    s = settings(
        tmp_path,
        postgres_sslmode="verify-full",
        tls_ca_file=ca_file,
        redis_url="rediss://sluice:pw@cache:6380/0",
        mongo_tls="true",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_username="airflow",
        kafka_password="pw-airflow",
    )
    conns = airflow_connections(s)
    assert conns["sluice_postgres"]["extra"] == {"sslmode": "verify-full", "sslrootcert": ca_file}
    assert conns["sluice_redis"]["extra"]["ssl"] is True
    assert conns["sluice_redis"]["extra"]["ssl_ca_certs"] == ca_file
    assert conns["sluice_mongo"]["extra"]["tlsCAFile"] == ca_file
    kafka = {k: v for k, v in conns["sluice_kafka"]["extra"].items() if k != "group.id"}
    # A task rebuilds the settings from the connection: the same Kafka connection comes back.
    rebuilt = load_settings(connections.kafka_environment(kafka), project_dir=tmp_path)
    assert rebuilt.kafka == s.kafka


def test_settings_never_show_their_passwords(tmp_path):
    s = settings(
        tmp_path,
        postgres_url="postgresql://own:pg-owner-pw@db:5432/sluice",
        redis_url="redis://:redis-pw-1@cache:6379/0",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_username="u",
        kafka_password="kafka-pw-1",
    )
    shown = repr(s)
    assert not any(pw in shown for pw in ("pg-owner-pw", "redis-pw-1", "kafka-pw-1"))
    assert connections.MASK in shown


def test_log_records_are_masked(tmp_path, caplog):
    s = settings(tmp_path, redis_url="redis://:redis-pw-1@cache:6379/0")
    logger = logging.getLogger("sluice.test.redact")
    logger.addFilter(connections.RedactSecrets(connections.secrets_of(s)))
    with caplog.at_level(logging.INFO, logger="sluice.test.redact"):
        logger.info("connecting to %s", s.redis_url)
    assert caplog.records[0].getMessage() == "connecting to redis://:***@cache:6379/0"
