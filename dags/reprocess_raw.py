"""Airflow DAG `reprocess_raw` (built in plugins/factories/platform.py)."""

from plugins.factories.platform import reprocess_raw_dag

dag = reprocess_raw_dag()
