"""Airflow DAGs `export_<asset>`: one per day-partitioned crawl (built in
plugins/factories/platform.py)."""

from plugins.factories.platform import partition_export_dag
from sluice.crawl.specs import CRAWLS

for _spec in CRAWLS:
    if _spec.partitioned:
        globals()[_spec.export_dag_id] = partition_export_dag(_spec)
