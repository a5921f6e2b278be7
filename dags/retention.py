"""Airflow DAG `retention` (built in plugins/factories/platform.py)."""

from plugins.factories.platform import retention_dag

dag = retention_dag()
