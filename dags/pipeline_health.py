"""Airflow DAG `pipeline_health` (built in plugins/factories/platform.py)."""

from plugins.factories.platform import pipeline_health_dag

dag = pipeline_health_dag()
