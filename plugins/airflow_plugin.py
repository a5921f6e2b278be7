"""The Airflow plugin entry point (``airflow.plugins`` in pyproject.toml): what the scheduler
must know by name, i.e. Sluice's priority weight strategy."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from plugins.priority import FreshRunsFirst


class SluicePlugin(AirflowPlugin):
    """Registers :class:`~plugins.priority.FreshRunsFirst` for serialized DAGs."""

    name = "sluice"
    priority_weight_strategies = [FreshRunsFirst]  # noqa: RUF012 - the AirflowPlugin API
