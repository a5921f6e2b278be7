"""The local Airflow's environment is derived from Sluice's settings, secrets kept stable."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from sluice.airflow_local import airflow_environment, connections, load_secrets
from sluice.settings import load_settings
from sluice.storage.postgres import sqlalchemy_url


def settings(tmp_path: Path):
    return load_settings(
        {
            "SLUICE_POSTGRES_URL": "postgresql://own:p%40ss@db.internal:6543/data",
            "SLUICE_REDIS_URL": "redis://:secret@cache:6380/2",
            "SLUICE_KAFKA_BOOTSTRAP": "k1:9092,k2:9092",
            "SLUICE_MONGO_URL": "mongodb://mongo:27018/raw",
            "SLUICE_AIRFLOW_URL": "http://127.0.0.1:8181",
            "SLUICE_STACK_DIR": str(tmp_path / "stack"),
        },
        project_dir=tmp_path,
    )


def test_connections_carry_the_settings_addresses_and_secrets(tmp_path):
    conns = connections(settings(tmp_path))
    assert conns["sluice_postgres"] == {
        "conn_type": "postgres", "host": "db.internal", "port": 6543,
        "login": "own", "password": "p@ss", "schema": "data", "extra": {},
    }  # fmt: skip
    assert conns["sluice_redis"]["password"] == "secret"
    assert conns["sluice_redis"]["extra"] == {"db": 2}
    assert conns["sluice_mongo"]["schema"] == "raw" and conns["sluice_mongo"]["port"] == 27018
    assert conns["sluice_kafka"]["extra"]["bootstrap.servers"] == "k1:9092,k2:9092"


def test_the_environment_points_every_component_at_one_airflow(tmp_path):
    s = settings(tmp_path)
    env = airflow_environment(s, load_secrets(tmp_path / "home"))
    assert env["AIRFLOW__API__PORT"] == "8181"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8181/execution/"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg://")
    bundle = json.loads(env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"])[0]
    assert bundle["kwargs"]["path"] == str(tmp_path / "dags")
    assert json.loads(env["AIRFLOW_CONN_SLUICE_MONGO"])["host"] == "mongo"


def test_secrets_are_created_once_private_and_then_reused(tmp_path):
    first = load_secrets(tmp_path)
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
    assert load_secrets(tmp_path) == first
    assert first.jwt_secret != first.api_secret_key


def test_sqlalchemy_url_uses_psycopg_3():
    assert sqlalchemy_url("postgresql://a:b@h:1/d") == "postgresql+psycopg://a:b@h:1/d"
    assert sqlalchemy_url("postgres://a@h/d") == "postgresql+psycopg://a@h/d"


def test_fab_auth_puts_the_fab_auth_manager_in_place_of_the_simple_one(tmp_path):
    fab = load_settings(
        {"SLUICE_AIRFLOW_AUTH": "fab", "SLUICE_STACK_DIR": str(tmp_path / "stack")},
        project_dir=tmp_path,
    )
    env = airflow_environment(fab, load_secrets(tmp_path / "home"))
    assert (
        env["AIRFLOW__CORE__AUTH_MANAGER"],
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS" in env,
    ) == ("airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager", False)


def test_the_supervised_airflow_keeps_the_auth_manager_sluice_up_chose(tmp_path):
    from sluice.stack.services.airflow import AirflowComponent

    fab = load_settings({"SLUICE_AIRFLOW_AUTH": "fab"}, project_dir=tmp_path)
    program = AirflowComponent(fab, "api-server").program()
    assert program.environment == {"SLUICE_AIRFLOW_AUTH": "fab"}


def test_a_git_url_makes_airflow_read_the_branch_of_a_repository_under_the_project(tmp_path):
    from dataclasses import replace

    from sluice.airflow_local import dag_bundle

    s = replace(settings(tmp_path), dag_bundle_git_url=".stack/dags.git")
    bundle = dag_bundle(s)
    assert (bundle["classpath"].rsplit(".", 1)[1], bundle["kwargs"]) == (
        "GitDagBundle",
        {"repo_url": str(tmp_path / ".stack/dags.git"), "tracking_ref": "dags",
         "subdir": "dags", "refresh_interval": 30},
    )  # fmt: skip
    assert (tmp_path / ".stack/dags.git/HEAD").is_file()  # a new bare repository
