"""The register task of ``crawl_<spider>`` on the real PostgreSQL: where a run's start URLs
come from.

Each test gives the task's Airflow connection a scratch schema of its own with the project's
migrations applied, so what other tests or `sluice up` registered is not seen.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import psycopg
import pytest
from airflow.sdk.exceptions import AirflowFailException
from psycopg import sql

from plugins.operators.crawl import REGISTER_TASK, RegisterCrawlRunOperator
from sluice import sources
from sluice.storage.postgres import connect
from tests.support.sources import scratch_registry

pytestmark = pytest.mark.postgres

SHOP = "http://shop.example/"
OTHER_SHOP = "https://other-shop.example/catalog"


@pytest.fixture
def registry(stack, settings, monkeypatch) -> Iterator[psycopg.Connection]:
    """The empty registry the register task reads (as the owner role, in autocommit)."""
    with scratch_registry(settings) as schema:
        airflow_conn = json.loads(os.environ["AIRFLOW_CONN_SLUICE_POSTGRES"])
        options = {"options": f"-c search_path={schema},public"}
        airflow_conn["extra"] = {**(airflow_conn.get("extra") or {}), **options}
        monkeypatch.setenv("AIRFLOW_CONN_SLUICE_POSTGRES", json.dumps(airflow_conn))
        with connect(settings.postgres_url, autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema)))
            yield conn


def add(conn, name: str, spider: str, *urls: str, enabled: bool = True) -> None:
    sources.add(conn, sources.make_source(name, spider, urls, enabled))


def register(spider: str, **params) -> dict:
    """What the register task of a ``crawl_<spider>`` run with ``params`` decides."""
    day = datetime(2026, 3, 4, 22, tzinfo=UTC)
    context = {
        "params": params,
        "run_id": f"manual__{uuid.uuid4().hex}",
        "dag_run": SimpleNamespace(run_after=day),
        "data_interval_start": day,
        "logical_date": day,
        # The task also publishes the crawl id alone; these tests read its return value.
        "ti": SimpleNamespace(xcom_push=lambda key, value: None),
    }
    return RegisterCrawlRunOperator(task_id=REGISTER_TASK, spider=spider).execute(context)


def test_a_run_without_start_urls_crawls_every_enabled_source_of_its_spider(registry):
    add(registry, "a-shop", "ecommerce", SHOP)
    add(registry, "b-shop", "ecommerce", OTHER_SHOP, SHOP)
    add(registry, "c-shop", "ecommerce", "http://switched-off.example/", enabled=False)
    add(registry, "market", "finance", "http://market.example/quotes")
    assert register("ecommerce")["start_urls"] == [SHOP, OTHER_SHOP]


def test_start_urls_the_run_gives_win_over_the_registry(registry):
    add(registry, "a-shop", "ecommerce", SHOP)
    plan = register("ecommerce", start_urls=["http://analyst.example/sale"])
    assert plan["start_urls"] == ["http://analyst.example/sale"]


def test_the_run_records_the_registered_start_urls_it_crawls(registry):
    add(registry, "market", "finance", "http://market.example/quotes")
    plan = register("finance")
    params = registry.execute(
        "SELECT params FROM crawl_runs WHERE crawl_id = %s", (plan["crawl_id"],)
    ).fetchone()[0]
    assert params["start_urls"] == ["http://market.example/quotes"]


def test_a_run_with_no_enabled_source_fails_at_once_saying_how_to_add_one(registry):
    add(registry, "a-shop", "ecommerce", SHOP, enabled=False)
    with pytest.raises(AirflowFailException) as failed:
        register("ecommerce")
    assert str(failed.value) == (
        "no enabled source for spider 'ecommerce': add one with `sluice source add NAME "
        "--spider ecommerce --start-url URL`, or enable one with `sluice source enable NAME` "
        "(`sluice source list` shows them)"
    )
