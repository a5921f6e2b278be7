"""The secure stack's certificates, settings layers and service configurations (no processes)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from sluice.settings import SettingsError, load_settings
from sluice.stack import secure
from sluice.stack.certificates import StackCertificates
from sluice.stack.services.ferretdb import FerretDB
from sluice.stack.services.kafka import Kafka
from sluice.stack.services.postgres import Postgres
from sluice.stack.services.redis import Redis


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "stack"
    secure.enable(folder, ["127.0.0.1"])
    return folder


def secure_settings(stack_dir: Path, **env: str):
    return load_settings({"SLUICE_STACK_DIR": str(stack_dir), **env}, project_dir=stack_dir.parent)


def properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


# -- certificates -------------------------------------------------------------------------------
def test_the_server_certificate_names_the_stack_hosts_and_is_signed_by_the_ca(tmp_path):
    certs = StackCertificates(tmp_path)
    certs.ensure(["db.local"])
    server = x509.load_pem_x509_certificate(certs.cert_file.read_bytes())
    ca = x509.load_pem_x509_certificate(certs.ca_file.read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    server.verify_directly_issued_by(ca)
    assert set(names.get_values_for_type(x509.DNSName)) == {"db.local", "localhost"}


def test_a_second_ensure_reissues_nothing(tmp_path):
    certs = StackCertificates(tmp_path)
    certs.ensure(["127.0.0.1"])
    assert certs.ensure(["127.0.0.1"]) is False


def test_a_new_host_gets_a_new_server_certificate(tmp_path):
    certs = StackCertificates(tmp_path)
    certs.ensure(["127.0.0.1"])
    assert certs.ensure(["127.0.0.1", "kafka.local"]) is True


def test_a_certificate_near_its_end_is_renewed(tmp_path):
    certs = StackCertificates(tmp_path)
    certs.ensure(["127.0.0.1"])
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=340)
    assert certs.ensure(["127.0.0.1"], now=later) is True


def test_keys_are_private(tmp_path):
    certs = StackCertificates(tmp_path)
    certs.ensure(["127.0.0.1"])
    assert {oct(p.stat().st_mode & 0o777) for p in (certs.key_file, certs.ca_key)} == {"0o600"}


# -- settings -----------------------------------------------------------------------------------
def test_secure_mode_puts_tls_on_every_client(stack_dir):
    s = secure_settings(stack_dir)
    ca = str(secure.folder(stack_dir) / "ca.pem")
    assert (s.stack_secure, s.postgres_sslmode, s.tls_ca_file, s.mongo_tls) == (
        True,
        "verify-full",
        ca,
        True,
    )


def test_secure_mode_logs_in_to_redis_over_tls_as_its_acl_user(stack_dir):
    url = secure_settings(stack_dir).redis_url
    assert url.startswith(f"rediss://{secure.REDIS_USER}:")


def test_secure_mode_logs_in_to_kafka_as_the_admin(stack_dir):
    kafka = secure_settings(stack_dir).kafka
    assert (kafka["security.protocol"], kafka["sasl.username"]) == (
        "SASL_SSL",
        secure.KAFKA_USERS[secure.ADMIN],
    )


def test_a_component_logs_in_to_kafka_as_itself(stack_dir):
    settings = secure_settings(stack_dir, SLUICE_COMPONENT="spider")
    assert settings.kafka["sasl.username"] == secure.KAFKA_USERS["spider"]


def test_an_unknown_component_is_refused_by_name(stack_dir):
    with pytest.raises(SettingsError, match="SLUICE_COMPONENT='crawler'"):
        secure_settings(stack_dir, SLUICE_COMPONENT="crawler")


def test_a_component_environment_names_no_password(stack_dir):
    assert secure.component_environment(stack_dir, "processor") == {"SLUICE_COMPONENT": "processor"}


# -- services -----------------------------------------------------------------------------------
def test_kafka_serves_sasl_ssl_and_mutual_tls_to_its_controller(stack_dir):
    props = properties(Kafka(secure_settings(stack_dir)).render_config())
    assert (props["listener.security.protocol.map"], props["allow.everyone.if.no.acl.found"]) == (
        "CONTROLLER:SSL,SASL_SSL:SASL_SSL",
        "false",
    )
    assert props["listener.name.controller.ssl.client.auth"] == "required"


def test_only_the_admin_and_the_broker_are_kafka_super_users(stack_dir):
    props = properties(Kafka(secure_settings(stack_dir)).render_config())
    assert props["super.users"] == f"User:sluice-admin;{secure.BROKER_PRINCIPAL}"


def test_redis_serves_tls_only_with_the_default_user_off(stack_dir):
    conf = Redis(secure_settings(stack_dir)).render_config()
    assert ("port 0\n" in conf, "user default off\n" in conf) == (True, True)


def test_postgres_turns_ssl_on_with_its_hostssl_rules(stack_dir):
    command = Postgres(secure_settings(stack_dir)).program().command
    assert {
        "ssl=on",
        f"hba_file={Postgres(secure_settings(stack_dir)).tls_dir / 'pg_hba.conf'}",
    } <= set(command)


def test_ferretdb_listens_on_tls_alone(stack_dir):
    command = FerretDB(secure_settings(stack_dir)).program().command
    assert ("-listen-addr=" in command, "-listen-tls" in command) == (True, True)


def test_spiders_may_not_read_or_reach_the_dlq(stack_dir):
    spider = secure.KAFKA_USERS["spider"]
    granted = {
        (g.name, op) for g in secure.kafka_grants() if g.user == spider for op in g.operations
    }
    assert granted == {
        ("sluice.raw.products", "WRITE"),
        ("sluice.raw.products", "DESCRIBE"),
        ("sluice.raw.quotes", "WRITE"),
        ("sluice.raw.quotes", "DESCRIBE"),
    }
