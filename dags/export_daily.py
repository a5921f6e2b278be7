"""Airflow DAG `export_daily` (built in plugins/factories/platform.py)."""

from plugins.factories.platform import export_daily_dag

dag = export_daily_dag()
