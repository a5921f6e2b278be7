"""Every file in dags/ loads in a clean Airflow, fast, and every DAG follows the house rules."""

from __future__ import annotations

import pytest

from sluice.bundle.build import build_bundle
from sluice.bundle.verify import verify_bundle
from sluice.crawl.specs import CRAWLS


@pytest.fixture(scope="module")
def verdict(settings, tmp_path_factory):
    archive = build_bundle(settings.project_dir, tmp_path_factory.mktemp("dist"), "test").path
    return verify_bundle(archive)


def test_every_dag_file_imports_cleanly_and_follows_the_rules(verdict):
    # No import error, no cycle, a named owner, retries and tags everywhere, imports under 2 s.
    assert verdict.ok, "\n".join(verdict.problems)


def test_there_is_a_crawl_dag_for_every_spider(verdict):
    assert {spec.dag_id for spec in CRAWLS} <= set(verdict.dags)
