"""Airflow DAGs `export_<asset>`: one per day-partitioned crawl (built in
plugins/factories/platform.py)."""

from plugins.factories.platform import partition_export_dag
from sluice.crawl.specs import CRAWLS

for _spec in CRAWLS:
    if _spec.partitioned:
        globals()[f"export_{_spec.asset_name}"] = partition_export_dag(_spec)
