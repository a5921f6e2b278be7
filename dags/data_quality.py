"""Airflow DAG `data_quality` (built in plugins/factories/platform.py)."""

from plugins.factories.platform import data_quality_dag

dag = data_quality_dag()
