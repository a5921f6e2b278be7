"""Sluice's Airflow roles as data: what each may touch, checked without a database."""

from __future__ import annotations

from airflow.security import permissions

from sluice import airflow_roles
from sluice.airflow_roles import ANALYST, CI, DATA_ENGINEER, analyst_dags, role_permissions
from sluice.crawl.specs import CRAWLS

OP = [(permissions.ACTION_CAN_EDIT, permissions.RESOURCE_CONNECTION)]


def resources(role: str) -> set[str]:
    return {resource for _, resource in role_permissions(OP)[role]}


def test_the_permission_names_are_airflows():
    assert (
        airflow_roles.READ, airflow_roles.EDIT, airflow_roles.CREATE, airflow_roles.MENU,
        airflow_roles.DAGS, airflow_roles.DAG_RUNS, airflow_roles.BACKFILLS,
    ) == (
        permissions.ACTION_CAN_READ, permissions.ACTION_CAN_EDIT, permissions.ACTION_CAN_CREATE,
        permissions.ACTION_CAN_ACCESS_MENU, permissions.RESOURCE_DAG,
        permissions.RESOURCE_DAG_RUN, permissions.RESOURCE_BACKFILL,
    )  # fmt: skip


def test_an_analyst_runs_every_crawl_and_the_reprocessing():
    assert analyst_dags() == [*(spec.dag_id for spec in CRAWLS), "reprocess_raw"]


def test_an_analyst_reaches_only_the_dags_it_runs():
    dags = {r.removeprefix("DAG:") for r in resources(ANALYST) if r.startswith("DAG:")}
    assert dags == set(analyst_dags())


def test_an_analyst_touches_no_connection_variable_or_pool():
    touched = resources(ANALYST) & {
        permissions.RESOURCE_CONNECTION,
        permissions.RESOURCE_VARIABLE,
        permissions.RESOURCE_POOL,
        permissions.RESOURCE_CONFIG,
    }
    assert touched == set()


def test_an_analyst_reads_no_dag_it_does_not_run():
    assert permissions.RESOURCE_DAG not in {
        resource for action, resource in role_permissions(OP)[ANALYST] if action != "menu_access"
    }


def test_a_data_engineer_has_airflows_op_permissions():
    assert role_permissions(OP)[DATA_ENGINEER] == OP


def test_ci_changes_nothing():
    actions = {action for action, resource in role_permissions(OP)[CI] if "My " not in resource}
    assert actions <= {permissions.ACTION_CAN_READ, permissions.ACTION_CAN_ACCESS_MENU}
