"""The demo pipeline on the secure stack: every hop over TLS, every login its own.

Spiders publish as the Kafka user that may only write the raw topics, processors consume as
the one that may only read them (and write the DLQ), the API reads PostgreSQL and Redis over
TLS; a backup set is made and restored over the same connections.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from demo.catalog import Catalog
from sluice.airflow_local import airflow_home
from sluice.stack import secure
from sluice.storage.mongo import client as mongo_client
from sluice.storage.postgres import connect
from tests.support.crawling import DEMO_DAY, wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.mongo, pytest.mark.redis]


def api_products(base: str, key: str, source: str) -> list[dict]:
    """Every product of ``source`` the API lists, page by page."""
    items, cursor = [], None
    while True:
        params = {"source": source, "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = requests.get(
            f"{base}/api/v1/products", params=params, headers={"X-API-Key": key}, timeout=10
        )
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next"]
        if not cursor:
            return items


@pytest.fixture(scope="module")
def crawled(secure_stack, demo):
    """One demo-shop crawl published as the spider user and stored as the processor user."""
    demo.reset()
    crawl = secure_stack.cli(
        "crawl", "ecommerce", "--start-url", f"{demo.base}/shop/", "--workers", "2", "--json",
        component="spider", timeout=600,
    )  # fmt: skip
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    processed = secure_stack.cli(
        "process", "--until-idle", "--idle-seconds", "3", component="processor", timeout=600
    )
    assert processed.returncode == 0, processed.stderr[-3000:]
    return json.loads(crawl.stdout)["crawl_id"]


def test_every_product_of_a_secure_crawl_is_served_by_the_api(
    secure_stack, crawled, demo, tmp_path
):
    expected = Catalog(seed=7).expected_public_products(DEMO_DAY, base_url=demo.base)
    key = secure_stack.cli("api-key", "create", "secure-e2e").stdout.split()[-1]
    server = secure_stack.popen("api", "--workers", "1", log=tmp_path / "api.log")
    base = secure_stack.env["SLUICE_API_URL"]
    try:

        def answers() -> bool:
            assert server.poll() is None, (tmp_path / "api.log").read_text()
            try:
                return requests.get(f"{base}/healthz", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(answers, 60, what="the API on the secure stack")
        served = {item["external_id"] for item in api_products(base, key, "shop.localhost")}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert served == set(expected)


def test_every_envelope_of_a_secure_crawl_is_archived(secure_stack, crawled):
    settings = secure_stack.settings()
    with connect(settings.postgres_reader_url) as conn:
        stored = conn.execute(
            "SELECT items_stored FROM crawl_runs WHERE crawl_id = %s", (crawled,)
        ).fetchone()[0]
    with mongo_client(settings.mongo_url, timeout=60) as mongo:
        archived = mongo.get_default_database().raw_items.count_documents({"crawl_id": crawled})
    assert archived == stored > 0


def test_a_backup_of_the_secure_stack_restores_from_the_object_store(secure_stack, crawled):
    settings = secure_stack.settings()
    created = secure_stack.cli("backup", "create", "--label", "secure", timeout=600)
    assert created.returncode == 0, created.stderr[-3000:]
    with connect(settings.postgres_url, autocommit=True) as conn:
        before = conn.execute("SELECT count(*) FROM products").fetchone()[0]
        conn.execute("DELETE FROM product_prices")
        conn.execute("DELETE FROM products")
    restored = secure_stack.cli(
        "backup", "restore", "--yes", f"s3://{settings.backup_bucket}/secure", timeout=600
    )
    assert restored.returncode == 0, restored.stderr[-3000:]
    with connect(settings.postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM products").fetchone()[0] == before > 0


@pytest.fixture(scope="module")
def backup_dag_run(secure_stack, crawled) -> subprocess.CompletedProcess:
    """`nightly_backup` run once by Airflow on the secure stack: its connections carry TLS."""
    migrated = secure_stack.cli("airflow", "db", "migrate", timeout=600)
    assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
    return secure_stack.cli("airflow", "dags", "test", "nightly_backup", timeout=900)


def test_an_airflow_dag_run_succeeds_on_the_secure_stack(backup_dag_run):
    output = backup_dag_run.stdout + backup_dag_run.stderr
    assert (backup_dag_run.returncode, "state=success, run_type=manual" in output) == (0, True)


def test_no_password_reaches_an_airflow_task_log(secure_stack, backup_dag_run):
    settings = secure_stack.settings()
    stack_dir = Path(secure_stack.env["SLUICE_STACK_DIR"])
    credentials = json.loads((secure.folder(stack_dir) / "credentials.json").read_text())
    passwords = [pw for group in credentials.values() for pw in group.values()]
    passwords.append(settings.object_store_secret_key)
    logs = [p for p in airflow_home(settings).rglob("*.log") if p.is_file()]
    texts = [backup_dag_run.stdout, backup_dag_run.stderr]
    texts += [p.read_text(errors="replace") for p in logs]
    assert [pw[:4] for pw in passwords for text in texts if pw in text] == []
