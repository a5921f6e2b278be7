"""Prometheus metrics shared by Sluice's processes: serving ``/metrics`` and the platform-state
collector behind `sluice exporter`. The series are listed in ``monitoring/README.md``."""
