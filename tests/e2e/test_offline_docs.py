"""The API docs page in headless Chromium with every request off the API's own host refused,
as on a machine without internet: the page still lists every operation of the OpenAPI
document."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import sync_playwright

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

#: Chromium flags for a closed network: no background calls home at start
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def test_the_docs_page_lists_every_operation_with_the_network_cut(served):
    base = served.api_url.rstrip("/")
    spec = requests.get(f"{base}/api/v1/openapi.json", timeout=30).json()
    operations = sum(len(HTTP_METHODS & set(item)) for item in spec["paths"].values())
    refused: list[str] = []

    def only_the_api(route) -> None:
        if route.request.url.startswith(f"{base}/"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=served.chromium, headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.route("**/*", only_the_api)
            page.goto(f"{base}/api/v1/docs", wait_until="load")
            page.wait_for_selector(".opblock", timeout=30_000)
            listed = page.locator(".opblock").count()
        finally:
            browser.close()
    assert (operations > 0, listed, refused) == (True, operations, [])
