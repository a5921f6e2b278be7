"""Redis down: the API still answers from PostgreSQL (BYPASS), errors in their usual shape,
and revoking a key says the cached checks could not be voided.

"Down" is a replica whose Redis address has nothing listening (connections refused, as when
Redis is stopped), so the suite's own Redis keeps serving the other tests meanwhile.
"""

from __future__ import annotations

import dataclasses

import pytest

from api import keychecks, keys
from api.app import create_app
from sluice.storage.postgres import connect
from sluice.storage.redis import client as redis_client
from tests.integration.api.conftest import make_key
from tests.support.network import free_port

pytestmark = [pytest.mark.postgres]


@pytest.fixture(scope="module")
def nowhere() -> str:
    """A Redis address with nothing listening."""
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture(scope="module")
def cut_off(settings, migrated, nowhere):
    """A test client of the API whose Redis does not answer."""
    app = create_app(dataclasses.replace(settings, redis_url=nowhere))
    app.testing = True
    return app.test_client()


def test_a_listing_is_answered_from_postgresql(cut_off, key, catalog):
    path = f"/api/v1/products?source={catalog['source']}&limit=5"
    served = cut_off.get(path, headers={"X-API-Key": key})
    assert (served.status_code, served.headers["X-Cache"], len(served.json["items"])) == (
        200,
        "BYPASS",
        5,
    )


def test_an_unknown_key_gets_the_401_envelope(cut_off):
    refused = cut_off.get("/api/v1/products", headers={"X-API-Key": "slk_not-a-key"})
    assert (refused.status_code, refused.json["error"]["code"]) == (401, "unauthorized")


def test_a_missing_product_gets_the_404_envelope(cut_off, key):
    missing = cut_off.get("/api/v1/products/9000000000000", headers={"X-API-Key": key})
    assert (missing.status_code, missing.json["error"]["code"]) == (404, "not_found")


def test_revoking_says_when_the_cached_checks_could_not_be_voided(settings, nowhere):
    name, _ = make_key(settings)
    unreachable = redis_client(nowhere, timeout=1.0)
    with (
        connect(settings.postgres_writer_url, autocommit=True) as conn,
        pytest.raises(keychecks.ChecksNotVoided, match="within 60 s"),
    ):
        keys.revoke(conn, unreachable, name)


def test_the_revoke_command_fails_saying_the_key_is_revoked_but_checks_may_linger(
    sluice_cli, settings, nowhere
):
    name, _ = make_key(settings)
    revoked = sluice_cli("api-key", "revoke", name, env={"SLUICE_REDIS_URL": nowhere})
    assert (revoked.returncode, "in PostgreSQL, but" in revoked.stderr) == (1, True)
