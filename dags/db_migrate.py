"""Airflow DAG `db_migrate` (built in plugins/factories/platform.py)."""

from plugins.factories.platform import db_migrate_dag

dag = db_migrate_dag()
