"""Distributed crawl coordination in Redis: queue, leases, duplicate filter, crawl registry.

Spider workers (``spiders/``), the ``sluice crawl`` command and the Airflow plugins all go
through these modules, so every party agrees on the keys and on when a crawl is done.
"""
