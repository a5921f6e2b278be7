"""Airflow DAG `dlq_redrive` (built in plugins/factories/platform.py)."""

from plugins.factories.platform import dlq_redrive_dag

dag = dlq_redrive_dag()
