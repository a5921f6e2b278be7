"""Airflow DAG `crawl_requests` (built in plugins/factories/events.py)."""

from plugins.factories.events import crawl_requests_dag

dag = crawl_requests_dag()
