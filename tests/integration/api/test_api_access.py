"""API keys, revocation, rate limits, the cache and its invalidation by a processor batch."""

from __future__ import annotations

import uuid

import pytest

from api import keys
from processors.app import build
from sluice.kafka.admin import admin_client, ensure_topics
from sluice.kafka.topics import TopicSpec
from sluice.storage.postgres import connect
from sluice.storage.redis import client as redis_client
from tests.integration.api.conftest import make_key, walk
from tests.support.processing import product, publish

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.kafka]


def test_health_needs_no_key_and_data_needs_a_valid_one(client, settings):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json["status"] == "ready"
    assert client.get("/api/v1/openapi.json").json["info"]["title"] == "Sluice API"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.get_data(as_text=True)
    missing = client.get("/api/v1/products")
    assert missing.status_code == 401 and "X-API-Key" in missing.json["error"]["message"]
    wrong = client.get("/api/v1/products", headers={"X-API-Key": "slk_not-a-key"})
    assert wrong.status_code == 401

    name, key = make_key(settings)
    assert client.get("/api/v1/products?limit=1", headers={"X-API-Key": key}).status_code == 200
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        assert keys.revoke(conn, redis_client(settings.redis_url), name)
    revoked = client.get("/api/v1/products?limit=1", headers={"X-API-Key": key})
    assert revoked.status_code == 401 and "revoked" in revoked.json["error"]["message"]

    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'sluice_api_requests_total{method="GET",route="/api/v1/products",status="401"}' in (
        metrics
    )
    assert "sluice_api_request_duration_seconds_bucket" in metrics


def test_a_key_over_its_limit_gets_429_with_retry_after(client, settings):
    _, key = make_key(settings, rate_limit=3)
    statuses = [
        client.get("/api/v1/crawls?limit=1", headers={"X-API-Key": key}).status_code
        for _ in range(4)
    ]
    assert statuses[:3] == [200, 200, 200]
    limited = client.get("/api/v1/crawls?limit=1", headers={"X-API-Key": key})
    assert limited.status_code == 429 and limited.json["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_keys_are_stored_hashed_and_shown_once(settings):
    name, key = make_key(settings)
    with connect(settings.postgres_reader_url) as conn:
        stored = conn.execute(
            "SELECT key_hash, key_prefix FROM api_keys WHERE name = %s", (name,)
        ).fetchone()
    assert stored == (keys.hash_key(key), key[:12]) and key not in stored


def test_etags_answer_304_and_a_processor_batch_makes_the_next_read_fresh(
    client, key, catalog, settings
):
    source = catalog["source"]
    path = f"/api/v1/products?source={source}&sort=-id&limit=5"
    first = client.get(path, headers={"X-API-Key": key})
    again = client.get(path, headers={"X-API-Key": key})
    assert (first.headers["X-Cache"], again.headers["X-Cache"]) == ("MISS", "HIT")
    assert again.get_data() == first.get_data() and "no-cache" in again.headers["Cache-Control"]
    unchanged = client.get(path, headers={"X-API-Key": key, "If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304

    # A real normalizer batch stores a new product of this source and bumps the version.
    admin = admin_client(settings.kafka)
    topic = TopicSpec(f"test.raw.{uuid.uuid4().hex[:10]}", partitions=1)
    ensure_topics(admin, [topic])
    try:
        publish(settings, topic.name, [product(source, "SKU-NEW", "7.77", 30, "api-cache")])
        runtime = build(
            settings, "normalizer", topics=[topic.name], consumer_group_id=f"api-{topic.name}"
        )
        assert runtime.run(until_idle=2, timeout=120).written == 1
    finally:
        admin.delete_topics([topic.name])[topic.name].result(timeout=30)
    fresh = client.get(path, headers={"X-API-Key": key, "If-None-Match": first.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.headers["X-Cache"] == "MISS"
    assert fresh.json["items"][0]["external_id"] == "SKU-NEW"


def test_pagination_sees_each_row_once_while_rows_are_inserted(client, key, catalog, settings):
    source = catalog["source"]
    seen, cursor, added = [], None, 0
    with connect(settings.postgres_writer_url, autocommit=True) as conn:
        while True:
            query = {"source": source, "limit": 4, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/products", query_string=query, headers={"X-API-Key": key})
            seen += [item["external_id"] for item in page.json["items"]]
            cursor = page.json["next"]
            if cursor is None:
                break
            added += 1
            conn.execute(
                "INSERT INTO products (source, external_id, name, price, currency, url, "
                "first_seen_at, last_seen_at) VALUES (%s, %s, 'Late arrival', 1, 'USD', "
                "'http://x/', now(), now())",
                (source, f"LATE-{added:03d}"),
            )
    originals = {row["external_id"] for row in catalog["products"]}
    assert len(seen) == len(set(seen))  # nothing twice
    assert originals <= set(seen)  # every row that existed at the start
    assert len(walk(client, key, "/api/v1/products", source=source, limit=200)) >= len(seen)


def test_the_api_key_commands(sluice_cli):
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = sluice_cli("api-key", "create", name, "--rate-limit", "42")
    assert created.returncode == 0, created.stderr
    key = created.stdout.split()[-1]
    assert key.startswith("slk_") and len(key) > 40
    assert sluice_cli("api-key", "create", name).returncode == 1  # names are unique
    listed = sluice_cli("api-key", "list").stdout
    assert name in listed and key[:12] in listed and key not in listed
    assert sluice_cli("api-key", "revoke", name).returncode == 0
    again = sluice_cli("api-key", "revoke", name)
    assert again.returncode == 1 and "no active API key" in again.stderr


def test_a_scoped_key_lists_its_scope_and_an_unknown_scope_is_refused_naming_the_known(
    sluice_cli,
):
    name = f"cli-{uuid.uuid4().hex[:8]}"
    refused = sluice_cli("api-key", "create", name, "--scope", "crawl:delete")
    created = sluice_cli("api-key", "create", name, "--scope", "crawl:request")
    listed = [line for line in sluice_cli("api-key", "list").stdout.splitlines() if name in line]
    sluice_cli("api-key", "revoke", name)
    assert (refused.returncode, "known: ['crawl:request']" in refused.stderr) == (1, True)
    assert (created.returncode, len(listed), "crawl:request" in listed[0]) == (0, 1, True)
