"""Sluice: an Airflow-scheduled web-data platform.

Shared core used by the spiders, processors, API, Airflow plugins and the ``sluice`` CLI.
"""

__version__ = "0.1.0"
