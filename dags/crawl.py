"""Airflow DAGs `crawl_<spider>`: one per spider in the crawl registry (sluice/crawl/specs.py)."""

from plugins.factories.crawl import build_crawl_dag
from sluice.crawl.specs import CRAWLS

for _spec in CRAWLS:
    globals()[_spec.dag_id] = build_crawl_dag(_spec)
