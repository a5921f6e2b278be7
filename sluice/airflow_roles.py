"""Who may do what in Airflow under the FAB auth manager: Sluice's roles, in one place.

``SLUICE_AIRFLOW_AUTH=fab`` (``sluice up --auth fab``, and the chart outside dev) runs Airflow
with the FAB auth manager, users in the metadata database. Beside Airflow's own roles (the
local login is an ``Admin``), Sluice keeps three for its users:

* ``Analyst``: views, triggers and backfills the crawl DAGs and ``reprocess_raw``; sees their
  runs and logs; may not touch connections, variables, pools or any other DAG;
* ``DataEngineer``: administers every DAG and what they use (Airflow's ``Op`` permissions:
  connections, variables, pools, backfills);
* ``CI``: the service account of bundle deploys: reads DAGs, their code and versions and the
  import errors, to check that a published bundle parses; it triggers nothing.

:func:`role_permissions` says it as data (tested without Airflow); :func:`sync_roles` writes
it into the metadata database through FAB's security manager, idempotently, and makes sure
the settings' login exists as an ``Admin``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sluice.crawl.specs import CRAWLS

if TYPE_CHECKING:
    from sluice.settings import Settings

AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
ANALYST, DATA_ENGINEER, CI = "Analyst", "DataEngineer", "CI"
#: DAGs an analyst runs and backfills besides the crawls.
ANALYST_EXTRA_DAGS = ("reprocess_raw",)

# Airflow's permission names (airflow.security.permissions; a unit test keeps them in step).
READ, EDIT, CREATE, DELETE, MENU = "can_read", "can_edit", "can_create", "can_delete", "menu_access"
DAGS, DAG_RUNS, BACKFILLS = "DAGs", "DAG Runs", "Backfills"

Permission = tuple[str, str]


def analyst_dags() -> list[str]:
    """The DAGs analysts may run: one per crawl, plus the reprocessing DAG."""
    return [spec.dag_id for spec in CRAWLS] + list(ANALYST_EXTRA_DAGS)


def _dag(dag_id: str) -> str:
    return f"DAG:{dag_id}"


def _dag_run(dag_id: str) -> str:
    return f"DAG Run:{dag_id}"


def _seeing() -> list[Permission]:
    """What every Sluice role needs to use the UI at all (none of it grants a change)."""
    return [
        (READ, "Website"),
        (READ, "My Profile"),
        (EDIT, "My Profile"),
        (READ, "My Password"),
        (EDIT, "My Password"),
        (MENU, "Browse"),
        (MENU, DAGS),
        (MENU, DAG_RUNS),
        (READ, "DAG Warnings"),
        (READ, "DAG Dependencies"),
        (READ, "Cluster Activity"),
    ]


def role_permissions(op_permissions: list[Permission]) -> dict[str, list[Permission]]:
    """Each Sluice role's (action, resource) pairs; ``op_permissions``: Airflow's Op role's."""
    analyst = [
        *_seeing(),
        (READ, BACKFILLS),
        (CREATE, BACKFILLS),
        (READ, "Task Instances"),
        (READ, "Task Logs"),
        (READ, "XComs"),
        (READ, "DAG Code"),
        (READ, "DAG Versions"),
        (READ, "Assets"),
    ]
    for dag_id in analyst_dags():
        analyst += [
            (READ, _dag(dag_id)),
            # Pausing and clearing a run of its own DAGs; editing a DAG's code is not possible.
            (EDIT, _dag(dag_id)),
            (READ, _dag_run(dag_id)),
            (CREATE, _dag_run(dag_id)),
            (EDIT, _dag_run(dag_id)),
        ]
    ci = [
        *_seeing(),
        (READ, DAGS),
        (READ, "DAG Code"),
        (READ, "DAG Versions"),
        (READ, "ImportError"),
    ]
    return {ANALYST: analyst, DATA_ENGINEER: list(op_permissions), CI: ci}


def sync_roles(settings: Settings) -> list[str]:
    """Create or complete Sluice's roles and the settings' Admin login; the roles written.

    Runs inside a process configured as the local Airflow (``sluice airflow`` environment):
    it opens FAB's application builder on the metadata database.
    """
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    with get_application_builder() as builder:
        manager = builder.sm
        # Airflow's own roles (Admin, Op, ...) and their permissions first.
        manager.sync_roles()
        roles = role_permissions(manager.OP_PERMISSIONS)
        manager.bulk_sync_roles({"role": name, "perms": perms} for name, perms in roles.items())
        admin = manager.find_role("Admin")
        user = manager.find_user(username=settings.airflow_user)
        if user is None:
            manager.add_user(
                username=settings.airflow_user,
                first_name="Sluice",
                last_name="Admin",
                email=f"{settings.airflow_user}@sluice.local",
                role=admin,
                password=settings.airflow_password,
            )
        else:
            # Keep the password in step with the settings, as the simple auth manager does.
            manager.reset_password(user.id, settings.airflow_password)
    return list(roles)


def main() -> int:
    """``python -m sluice.airflow_roles``: sync the roles (run with Airflow's environment)."""
    from sluice.settings import load_settings

    written = sync_roles(load_settings())
    print(f"Airflow roles in step: {', '.join(written)} (and Airflow's own)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
