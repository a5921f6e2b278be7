"""Property-based tests from the API's own OpenAPI document: zero server errors and zero
responses that break the document, on the real PostgreSQL and Redis, through the app and over
HTTP through gunicorn as `sluice api` serves it.

The seed is fixed in the suite (``tests.support.fuzzing``); the scheduled fuzz workflow runs
the same tests with fresh seeds and negative data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, seed
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.integration.api.conftest import make_key
from tests.support.crawling import wait_for
from tests.support.fuzzing import fuzz_seed, negative_data
from tests.support.network import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

OPERATIONS = 11


def _exercise(schema, key: str, examples: int) -> None:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == OPERATIONS
    mode = GenerationMode.ALL if negative_data() else GenerationMode.POSITIVE
    for operation in operations:

        @seed(fuzz_seed())
        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            # Default checks: no 5xx, status codes, content types, headers and bodies as
            # the document says. Left out: "schema-valid data is accepted", which an opaque
            # cursor and the min <= max rule (neither expressible in OpenAPI) cannot meet.
            case.call_and_validate(
                headers={"X-API-Key": key}, excluded_checks=[positive_data_acceptance]
            )

        check()


def test_the_app_keeps_its_openapi_promises(app, catalog, settings):
    # Hypothesis sends hundreds of requests: a key with a limit they cannot reach.
    key = make_key(settings, rate_limit=1_000_000)[1]
    _exercise(schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app), key, examples=40)


@pytest.fixture
def served_api(settings, migrated, tmp_path: Path) -> Iterator[str]:
    """The API served by `sluice api` (gunicorn) on a port of its own; its base URL."""
    base = f"http://127.0.0.1:{free_port()}"
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("sluice")), "api", "--workers", "1"],
        env={**os.environ, "SLUICE_API_URL": base},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def answers() -> bool:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                return requests.get(f"{base}/healthz", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(answers, 60, what="gunicorn serving /healthz")
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def test_gunicorn_serving_the_api_keeps_its_openapi_promises(served_api, catalog, settings):
    key = make_key(settings, rate_limit=1_000_000)[1]
    _exercise(schemathesis.openapi.from_url(f"{served_api}/api/v1/openapi.json"), key, examples=15)


def test_gunicorn_answers_an_over_long_target_in_the_json_envelope(served_api):
    refused = requests.get(f"{served_api}/api/v1/products", params={"q": "x" * 6000}, timeout=10)
    assert (refused.status_code, refused.json()["error"]["code"]) == (414, "uri_too_long")
