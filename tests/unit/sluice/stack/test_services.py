"""Service configuration and preflight checks (no processes started)."""

from __future__ import annotations

import re

import pytest

from sluice.settings import load_settings
from sluice.stack.errors import StackError
from sluice.stack.golang import go_version
from sluice.stack.progress import Progress
from sluice.stack.services import all_services
from sluice.stack.services.base import require_executable
from sluice.stack.services.kafka import Kafka, new_cluster_id
from sluice.stack.services.postgres import Postgres
from sluice.stack.services.redis import Redis


@pytest.fixture
def settings(tmp_path):
    return load_settings(
        {
            "SLUICE_KAFKA_BOOTSTRAP": "127.0.0.1:19092",
            "SLUICE_KAFKA_CONTROLLER_PORT": "19093",
            "SLUICE_REDIS_URL": "redis://:s3cret@127.0.0.1:16379/0",
        },
        project_dir=tmp_path,
    )


def properties(text: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")
    )


def test_kafka_config_follows_the_settings(settings):
    props = properties(Kafka(settings).render_config())
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["auto.create.topics.enable"] == "false"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["log.dirs"] == str((settings.stack_dir / "kafka" / "data").resolve())


def test_kafka_binds_its_broker_and_controller_ports(settings):
    assert Kafka(settings).listen_addresses() == [("127.0.0.1", 19092), ("127.0.0.1", 19093)]


def test_cluster_ids_are_kraft_shaped_and_unique():
    ids = {new_cluster_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)


def test_redis_config_has_aof_on_and_the_password_of_the_url(settings):
    conf = Redis(settings).render_config()
    assert "appendonly yes\n" in conf
    assert "port 16379\n" in conf
    assert "requirepass s3cret\n" in conf
    assert "daemonize no\n" in conf


def test_postgres_roles_come_from_the_three_urls(settings):
    pg = Postgres(settings)
    assert (pg.owner.name, pg.writer.name, pg.reader.name) == (
        "sluice",
        "sluice_writer",
        "sluice_reader",
    )
    assert pg.writer.password == "sluice_writer"
    assert pg.owner.database == "sluice"


def test_postgres_refuses_urls_that_name_different_databases(tmp_path):
    settings = load_settings(
        {
            "SLUICE_POSTGRES_READER_URL": "postgresql://r:r@127.0.0.1:5432/other",
            "SLUICE_PG_BINDIR": "/bin",
        },
        project_dir=tmp_path,
    )
    with pytest.raises(StackError) as caught:
        Postgres(settings).install(Progress())
    assert caught.value.service == "postgres"
    assert "the same database" in caught.value.cause


def test_postgres_names_the_package_when_binaries_are_missing(tmp_path):
    settings = load_settings({"SLUICE_PG_BINDIR": str(tmp_path / "none")}, project_dir=tmp_path)
    with pytest.raises(StackError) as caught:
        Postgres(settings).install(Progress())
    assert "postgresql-15" in caught.value.cause
    assert "SLUICE_PG_BINDIR" in caught.value.fix


def test_require_executable_names_package_and_setting():
    with pytest.raises(StackError) as caught:
        require_executable("redis", "/no/such/redis-server", "redis-server", "SLUICE_REDIS_SERVER")
    err = caught.value
    assert err.service == "redis"
    assert "Debian package redis-server is missing" in err.cause
    assert "make deps" in err.fix and "SLUICE_REDIS_SERVER" in err.fix
    assert err.describe().startswith("redis: ")


def test_services_are_listed_in_start_order(settings):
    assert [s.name for s in all_services(settings)] == [
        "postgres", "redis", "kafka", "ferretdb", "seaweedfs"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("printed", "expected"),
    [("go1.19.8", (1, 19)), ("go1.26.8", (1, 26)), ("go1.22rc1", (1, 22)), ("", (0, 0))],
)
def test_go_version_is_read_from_go_env(tmp_path, printed, expected):
    fake_go = tmp_path / "go"
    fake_go.write_text(f"#!/bin/sh\necho '{printed}'\n")
    fake_go.chmod(0o755)
    assert go_version(str(fake_go)) == expected
