"""Property-based tests from the API's own OpenAPI document: zero server errors and zero
responses that break the document, on the real PostgreSQL and Redis."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.integration.api.conftest import make_key

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_the_api_keeps_its_openapi_promises(app, catalog, settings):
    # Hypothesis sends hundreds of requests: a key with a limit they cannot reach.
    key = make_key(settings, rate_limit=1_000_000)[1]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9

    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=40,
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
