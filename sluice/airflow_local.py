"""The local Airflow: its home, its secrets, and the environment every Airflow process gets.

One function, :func:`airflow_environment`, turns Sluice's settings into Airflow's own
configuration (``AIRFLOW__SECTION__KEY``) and connections (``AIRFLOW_CONN_SLUICE_*``), so the
api-server, scheduler, dag-processor, triggerer, the tasks they run, ``sluice airflow ...`` and
the tests all see one Airflow, wired to the same services as the rest of Sluice.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sluice import connections as security
from sluice.monitoring.ports import STATSD_PORT
from sluice.private_files import create_private_once, write_private
from sluice.settings import Settings
from sluice.stack import secure
from sluice.storage.postgres import sqlalchemy_url

#: the Airflow components `sluice up` runs, in start order
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
#: the name of the DAG bundle that serves ``dags/`` locally
BUNDLE_NAME = "sluice-dags"


@dataclass(frozen=True)
class AirflowSecrets:
    """Keys every Airflow component must share (a random key per process breaks task auth)."""

    fernet_key: str
    jwt_secret: str
    api_secret_key: str


def airflow_home(settings: Settings) -> Path:
    """Airflow's home: logs, the generated password file and the shared secrets."""
    return settings.stack_dir / "airflow"


def _parts(url: str) -> dict[str, object]:
    parts = urlsplit(url)
    found: dict[str, object] = {"host": parts.hostname, "port": parts.port}
    if parts.username:
        found["login"] = unquote(parts.username)
    if parts.password:
        found["password"] = unquote(parts.password)
    return found


def connections(settings: Settings) -> dict[str, dict[str, object]]:
    """The Airflow connections the plugins use, built from the same settings as everything.

    Each carries its service's TLS options (:mod:`sluice.connections`) in its extra, in the
    form the provider's hook reads.
    """
    postgres = _parts(settings.postgres_url)
    mongo = _parts(settings.mongo_url)
    redis = _parts(settings.redis_url)
    redis_db = urlsplit(settings.redis_url).path.lstrip("/") or "0"
    redis_tls = security.redis_tls(settings)
    return {
        "sluice_postgres": {
            "conn_type": "postgres",
            **postgres,
            "schema": urlsplit(settings.postgres_url).path.lstrip("/"),
            "extra": security.postgres_tls(settings),
        },
        "sluice_mongo": {
            "conn_type": "mongo",
            **mongo,
            "schema": urlsplit(settings.mongo_url).path.lstrip("/") or "sluice",
            "extra": {"srv": False, **security.mongo_tls(settings)},
        },
        "sluice_redis": {
            "conn_type": "redis",
            **redis,
            "extra": {"db": int(redis_db), **({"ssl": True, **redis_tls} if redis_tls else {})},
        },
        "sluice_kafka": {
            "conn_type": "kafka",
            # The group the crawl-request watcher reads sluice.events as: from the first event
            # on, committing only what it has handled (the hook drops these for everything else).
            "extra": {
                **settings.kafka,
                "group.id": "sluice.airflow",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            },
        },
        # The object store, for S3DagBundle: keys locally, the pod's IAM role in the cluster.
        "sluice_object_store": {
            "conn_type": "aws",
            **(
                {
                    "login": settings.object_store_access_key,
                    "password": settings.object_store_secret_key,
                }
                if settings.object_store_auth == "keys"
                else {}
            ),
            "extra": {
                "region_name": settings.aws_region or "us-east-1",
                **(
                    {"endpoint_url": settings.object_store_url} if settings.object_store_url else {}
                ),
            },
        },
    }


def load_secrets(home: Path) -> AirflowSecrets:
    """The shared keys, created once under ``home`` (mode 0600) and reused after.

    Processes that start at once (the two sessions of `make test`, say) agree on one set: the
    first to create the file wins and the others read it.
    """
    path = home / "secrets.json"
    if not path.is_file():
        from cryptography.fernet import Fernet

        created = AirflowSecrets(
            fernet_key=Fernet.generate_key().decode(),
            jwt_secret=secrets.token_urlsafe(32),
            api_secret_key=secrets.token_urlsafe(32),
        )
        create_private_once(path, json.dumps(created.__dict__))
    return AirflowSecrets(**json.loads(path.read_text(encoding="utf-8")))


def write_passwords(settings: Settings) -> Path:
    """The simple auth manager's password file, so the login is the one in the settings."""
    path = airflow_home(settings) / "passwords.json"
    return write_private(path, json.dumps({settings.airflow_user: settings.airflow_password}))


def _auth_manager(settings: Settings, home: Path) -> dict[str, str]:
    """The auth manager's variables: FAB's (roles in the database) or the simple one's."""
    if settings.airflow_auth == "fab":
        from sluice.airflow_roles import AUTH_MANAGER

        return {"AIRFLOW__CORE__AUTH_MANAGER": AUTH_MANAGER}
    return {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{settings.airflow_user}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
    }


def git_repository(settings: Settings) -> str:
    """``SLUICE_DAG_BUNDLE_GIT_URL`` as git reaches it: a URL as it is, a relative path taken
    from the project directory."""
    from sluice.bundle.git import is_remote

    url = settings.dag_bundle_git_url
    if is_remote(url):
        return url
    return str(settings.project_dir / Path(url).expanduser())


def dag_bundle(settings: Settings) -> dict[str, object]:
    """Where Airflow reads the DAGs: the checkout's ``dags/``, or, with
    ``SLUICE_DAG_BUNDLE_GIT_URL``, the branch ``sluice bundle publish-git`` publishes to (each
    run then records the commit it was parsed from, and a cleared task runs that commit)."""
    if settings.dag_bundle_git_url:
        from sluice.bundle.git import SUBDIR, ensure_repository

        return {
            "name": BUNDLE_NAME,
            "classpath": "airflow.providers.git.bundles.git.GitDagBundle",
            "kwargs": {
                "repo_url": ensure_repository(git_repository(settings)),
                "tracking_ref": settings.dag_bundle_git_branch,
                "subdir": SUBDIR,
                "refresh_interval": settings.dag_bundle_refresh,
            },
        }
    return {
        "name": BUNDLE_NAME,
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {
            "path": str(settings.project_dir / "dags"),
            "refresh_interval": settings.dag_bundle_refresh,
        },
    }


def airflow_environment(settings: Settings, keys: AirflowSecrets) -> dict[str, str]:
    """Environment variables that make a process part of the local Airflow."""
    home = airflow_home(settings)
    api = urlsplit(settings.airflow_url)
    dags = settings.project_dir / "dags"
    bundles = [dag_bundle(settings)]
    env = {
        "AIRFLOW_HOME": str(home),
        "SLUICE_PROJECT_DIR": str(settings.project_dir),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        # Plugins are the installed `plugins` package, imported by their module path (as
        # triggers must be); an empty plugins folder keeps Airflow from importing them twice.
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__FERNET_KEY": keys.fernet_key,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{settings.airflow_url.rstrip('/')}/execution/",
        **_auth_manager(settings, home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(settings.airflow_db_url),
        "AIRFLOW__API__HOST": api.hostname or "127.0.0.1",
        "AIRFLOW__API__PORT": str(api.port or 8080),
        "AIRFLOW__API__BASE_URL": settings.airflow_url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": keys.api_secret_key,
        "AIRFLOW__API_AUTH__JWT_SECRET": keys.jwt_secret,
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
        # A Git bundle's clones (one per commit runs use) stay with this stack's data, not in
        # a temporary folder another stack on the machine shares.
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH": str(home / "dag-bundles"),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": str(settings.dag_bundle_refresh),
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        # StatsD to the local statsd_exporter (`sluice up --with-monitoring`); without it the
        # UDP packets are simply not received.
        "AIRFLOW__METRICS__STATSD_ON": "True",
        "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
        "AIRFLOW__METRICS__STATSD_PORT": str(STATSD_PORT),
        "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
    }
    # On the secure stack, Airflow reaches Kafka as its own user, with its own ACLs.
    env.update(secure.component_environment(settings.stack_dir, "airflow"))
    login = secure.kafka_login(settings.stack_dir, "airflow")
    as_airflow = (
        dataclasses.replace(settings, kafka_username=login[0], kafka_password=login[1])
        if login
        else settings
    )
    for conn_id, conn in connections(as_airflow).items():
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)
    return env
