"""Airflow DAG `nightly_backup` (built in plugins/factories/platform.py)."""

from plugins.factories.platform import nightly_backup_dag

dag = nightly_backup_dag()
