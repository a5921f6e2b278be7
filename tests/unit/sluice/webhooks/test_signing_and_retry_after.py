"""Webhook signatures and how long a receiver's Retry-After makes a deliverer wait."""

import pytest

from sluice.webhooks import signing
from sluice.webhooks.delivery import MAX_RETRY_AFTER, retry_after
from sluice.webhooks.subscriptions import WebhookError, check_url


def test_a_signature_verifies_its_own_body_only():
    header = signing.sign("s3cret", b'{"id":1}')
    assert (
        signing.verify("s3cret", b'{"id":1}', header),
        signing.verify("s3cret", b'{"id":2}', header),
    ) == (
        True,
        False,
    )


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, 0.0), ("3", 3.0), ("-4", 0.0), ("nan", 0.0), ("inf", 0.0), ("9999", MAX_RETRY_AFTER),
     ("Wed, 21 Oct 2026 07:28:00 GMT", 0.0)],
)  # fmt: skip
def test_retry_after_is_read_as_seconds_within_bounds(value, seconds):
    assert retry_after(value) == seconds


@pytest.mark.parametrize(
    "url", ["ftp://files.example/x", "file:///etc/passwd", "https://", "hooks"]
)
def test_a_url_that_is_not_http_with_a_host_is_refused(url):
    with pytest.raises(WebhookError):
        check_url(url)
