"""Sluice's Airflow plugins: hooks, operators, sensors, triggers, and the DAG factories.

This is an installed package (not Airflow's plugins folder), so the triggerer can import the
triggers by their module path and DAG bundles need only ``dags/``.
"""
