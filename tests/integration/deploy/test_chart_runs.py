"""The chart runs what the tests ran: the workers, processors, api and webhooks containers of
`helm template` (command, args and environment as rendered) run here as local processes
against the native stack, as many replicas as the chart asks for, and a crawl dispatched to
them stores the whole demo shop.

Only what cannot be the same on one machine is changed: the services' addresses (the secret
and config values) point at the native stack, each process gets its own metrics and API port
and its own data folder (a pod's disk), and the worker replicas use a Redis database of their
own so the platform's pool stays out.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import create_engine, text

from demo.catalog import Catalog
from processors.app import TOPICS, consumer_group
from sluice.crawl import registry, runner, runs
from sluice.kafka.lag import group_lag
from sluice.storage.postgres import connect, sqlalchemy_url
from sluice.storage.redis import client
from sluice.webhooks import subscriptions
from tests.integration.api.conftest import make_key
from tests.support.crawling import DEMO_DAY, DemoServer, wait_for
from tests.support.helm import CHART, chart_copy, named, render
from tests.support.network import free_port
from tests.support.webhooks import Receiver, history

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka, pytest.mark.mongo]

MONITORING = Path(__file__).resolve().parents[3] / "monitoring"
#: the replicas the issue asks for: 3 worker pools, 2 of each processor group, 1 API
REPLICAS = {"workers": 3, "processors.normalizer": 2, "processors.archiver": 2, "webhooks": 2}


@pytest.fixture(scope="module")
def manifests(settings, tmp_path_factory) -> list[dict]:
    helm = settings.cache_dir / "tools" / "bin" / "helm"
    assert helm.exists(), f"{helm} is missing: run `make tools`"
    chart = chart_copy(settings.project_dir / CHART, tmp_path_factory.mktemp("chart"), MONITORING)
    sets = [f"{path}.replicas={count}" for path, count in REPLICAS.items()]
    return render(helm, chart, "-f", str(chart / "values-dev.yaml"), "--set", ",".join(sets))


def container_env(manifests: list[dict], container: dict, stack_env: dict[str, str]) -> dict:
    """The container's environment as Kubernetes would give it, the stack's addresses in."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        config = named(manifests, "ConfigMap", source["configMapRef"]["name"])
        env.update(config["data"])
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = str(entry["value"])
        elif not entry["valueFrom"]["secretKeyRef"].get("optional"):
            # A secret: the stack's own value for the same key (the test's one deviation).
            env[entry["name"]] = stack_env[entry["name"]]
    for name in ("SLUICE_KAFKA_BOOTSTRAP", "SLUICE_METRICS_HOST"):
        env[name] = stack_env[name]
    return env


@pytest.fixture
def chart_processes(manifests, settings, migrated, tmp_path) -> Iterator[dict]:
    """Every replica of the chart's workers, processors and api, running; yields the API's URL
    and the settings the workers use."""
    own_redis = urlsplit(settings.redis_url)._replace(path="/6").geturl()
    client(own_redis).flushdb()
    stack_env = {
        "SLUICE_POSTGRES_URL": settings.postgres_url,
        "SLUICE_POSTGRES_WRITER_URL": settings.postgres_writer_url,
        "SLUICE_POSTGRES_READER_URL": settings.postgres_reader_url,
        "SLUICE_REDIS_URL": own_redis,
        "SLUICE_MONGO_URL": settings.mongo_url,
        "SLUICE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "SLUICE_METRICS_HOST": "127.0.0.1",
    }
    sluice = str(Path(sys.executable).with_name("sluice"))
    api_url = ""
    started: list[subprocess.Popen] = []
    for deployment in ("sluice-workers", "sluice-normalizer", "sluice-archiver", "sluice-api"):
        spec = named(manifests, "Deployment", deployment)["spec"]
        (container,) = spec["template"]["spec"]["containers"]
        env = container_env(manifests, container, stack_env)
        for replica in range(spec.get("replicas", 1)):
            env["SLUICE_METRICS_PORT"] = str(free_port())
            # Each pod has a disk of its own: logs and metrics files must not land in (and a
            # pool replica must not wipe) the platform's.
            env["SLUICE_STACK_DIR"] = str(tmp_path / f"{deployment}-{replica}")
            if deployment == "sluice-api":
                api_url = env["SLUICE_API_URL"] = f"http://127.0.0.1:{free_port()}"
            log = (tmp_path / f"{deployment}-{replica}.log").open("w")
            argv = [*(container.get("command") or [sluice]), *container["args"]]
            argv[0] = sluice  # the image's entrypoint, `sluice`, is this checkout's
            started.append(
                subprocess.Popen(argv, env={**os.environ, **env}, stdout=log,
                                 stderr=subprocess.STDOUT, cwd=settings.project_dir)
            )  # fmt: skip
    try:
        yield {"api": api_url, "settings": replace(settings, redis_url=own_redis),
               "logs": tmp_path}  # fmt: skip
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            process.wait(60)
        client(own_redis).flushdb()


def processing_report(settings, logs: Path, counts: tuple[int, int, int]) -> str:
    """What a stalled run looks like from outside: the crawl's counts, the normalizer group's
    lag and every normalizer's partition moves and errors (the logs go with the tmp folder)."""
    lag = group_lag(settings.kafka, consumer_group("normalizer"), TOPICS)
    with connect(settings.postgres_reader_url) as conn:
        # Rows count for the crawl that stored them last: another crawl of the shop since
        # takes them over.
        last = conn.execute(
            "SELECT last_crawl_id, count(*) FROM products WHERE source = 'shop.localhost' "
            "AND updated_at > now() - interval '15 minutes' GROUP BY 1"
        ).fetchall()
    lines = [
        f"received, stored, rejected = {counts}; normalizer group lag {lag}",
        f"shop products stored in the last 15 minutes, by crawl: {dict(last)}",
    ]
    for log in [*sorted(logs.glob("sluice-normalizer-*.log")), settings.stack_dir / "logs" /
                "normalizer.log"]:  # fmt: skip
        moves = [
            line for line in log.read_text(errors="replace").splitlines()
            if re.search(r"assigned|revoked|ERROR|WARNING|Traceback", line)
        ]  # fmt: skip
        lines += [f"-- {log.name}", *moves[-15:]]
    return "\n".join(lines)


def test_a_crawl_through_the_charts_processes_stores_the_whole_shop(chart_processes, settings):
    demo = DemoServer()
    crawl_settings = chart_processes["settings"]
    try:
        seeded = runner.seed_crawl(crawl_settings, "ecommerce", [f"{demo.base}/shop/"])
        with connect(settings.postgres_writer_url, autocommit=True) as conn:
            runs.register(conn, seeded.crawl_id, "ecommerce", None, {"workers": 3})
        server = client(crawl_settings.redis_url, decode=False)
        registry.dispatch(server, seeded.crawl_id, 3)
        wait_for(lambda: seeded.crawl_id not in registry.dispatched(server), 400, what="the end")
        expected = Catalog(seed=7).expected_public_products(DEMO_DAY, base_url=demo.base)
    finally:
        demo.stop()

    def counts() -> tuple[int, int, int]:
        with connect(settings.postgres_reader_url) as conn:
            row = conn.execute(
                "SELECT items_received, items_stored, items_rejected FROM crawl_runs"
                " WHERE crawl_id = %s",
                (seeded.crawl_id,),
            ).fetchone()
        return tuple(row) if row else (0, 0, 0)

    def stored() -> int:
        return counts()[1]

    try:
        wait_for(lambda: stored() >= len(expected), 300, what="the processors to store the crawl")
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}\n{processing_report(settings, chart_processes['logs'], counts())}"
        ) from None
    key = make_key(settings)[1]
    listing = requests.get(
        f"{chart_processes['api']}/api/v1/products",
        params={"source": "shop.localhost", "limit": 1},
        headers={"X-API-Key": key},
        timeout=10,
    )
    # The chart's own normalizers stored rows (the platform's, when it runs, share their group).
    logs = chart_processes["logs"].glob("sluice-normalizer-*.log")
    rows = sum(int(n) for log in logs for n in re.findall(r" rows=(\d+)", log.read_text()))
    assert (stored(), listing.status_code, rows > 0) == (len(expected), 200, True)


def test_the_charts_webhook_deliverers_deliver_each_change_once(manifests, settings, tmp_path):
    spec = named(manifests, "Deployment", "sluice-webhooks")["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    stack_env = {
        "SLUICE_POSTGRES_WRITER_URL": settings.postgres_writer_url,
        "SLUICE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "SLUICE_METRICS_HOST": "127.0.0.1",
    }
    env = container_env(manifests, container, stack_env)
    receiver = Receiver()
    source = f"chart-hooks-{tmp_path.name[-8:]}.localhost"
    engine = create_engine(sqlalchemy_url(settings.postgres_writer_url))
    with engine.begin() as conn:
        hook = subscriptions.add(conn, receiver.url, ["new"])
    sluice = str(Path(sys.executable).with_name("sluice"))
    started = []
    try:
        for replica in range(spec["replicas"]):
            env["SLUICE_METRICS_PORT"] = str(free_port())
            env["SLUICE_STACK_DIR"] = str(tmp_path / f"webhooks-{replica}")
            log = (tmp_path / f"webhooks-{replica}.log").open("w")
            argv = [sluice, *container["args"]]
            started.append(
                subprocess.Popen(argv, env={**os.environ, **env}, stdout=log,
                                 stderr=subprocess.STDOUT, cwd=settings.project_dir)
            )  # fmt: skip
        for n in range(8):
            history(settings, source, f"W{n}", [("2.00", "in_stock")])
        wait_for(lambda: len(receiver.accepted()) >= 8, 60, what="eight deliveries")
        delivered = [change["external_id"] for _, _, change in receiver.accepted()]
        assert (spec["replicas"], delivered) == (2, [f"W{n}" for n in range(8)])
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            process.wait(60)
        receiver.close()
        with engine.begin() as conn:
            conn.execute(text("UPDATE webhooks SET removed_at = now() WHERE id = :id"),
                         {"id": hook.id})  # fmt: skip
            conn.execute(text("DELETE FROM products WHERE source = :s"), {"s": source})
        engine.dispose()
