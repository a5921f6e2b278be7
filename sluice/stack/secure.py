"""The secure native stack: who each component is, its password, and what it may do.

``sluice stack up --secure`` (or ``SLUICE_STACK_SECURE=1``) keeps everything of the secure
mode in ``<stack dir>/secure/``: the private CA and server certificate
(:mod:`sluice.stack.certificates`), the generated passwords (``credentials.json``) and
``settings.env``, which :func:`sluice.settings.load_settings` layers over ``.env`` so every
later command of that checkout is secure too. With the mode on, the settings derive TLS for
every client (``Settings._secure_urls``); this module says which identity each component
uses and the Kafka ACLs that bind them:

* ``sluice-admin``: the stack, migrations and operators' commands (super user);
* ``sluice-spider``: writes the raw topics, nothing else;
* ``sluice-processor``: reads the raw topics in the ``sluice.`` consumer groups, writes the DLQ;
* ``sluice-airflow``: reads offsets and lag, and re-drives rejected records to the raw topics.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from confluent_kafka import KafkaException

from sluice.kafka.topics import DLQ, EVENTS, RAW_PRODUCTS, RAW_QUOTES
from sluice.private_files import write_private

if TYPE_CHECKING:
    from confluent_kafka.admin import AdminClient

    from sluice.stack.certificates import StackCertificates

FOLDER = "secure"
SETTINGS_FILE = "settings.env"
CREDENTIALS_FILE = "credentials.json"
ADMIN = "admin"
#: component -> Kafka user name.
KAFKA_USERS = {
    ADMIN: "sluice-admin",
    "spider": "sluice-spider",
    "processor": "sluice-processor",
    "airflow": "sluice-airflow",
}
REDIS_USER = "sluice"
#: The principal of the broker on its own controller listener (mutual TLS): the subject of
#: the stack's server certificate.
BROKER_PRINCIPAL = "User:CN=sluice-stack"
RAW_TOPICS = (RAW_PRODUCTS.name, RAW_QUOTES.name)
GROUP_PREFIX = "sluice."


@dataclass(frozen=True)
class Grant:
    """One Kafka ACL: ``user`` may do ``operations`` on a topic or group."""

    user: str
    resource: str  # "topic" or "group"
    name: str
    operations: tuple[str, ...]
    prefixed: bool = False


def kafka_grants() -> list[Grant]:
    """The ACLs of every component but the admin, who is a super user."""
    spider, processor, airflow = (KAFKA_USERS[c] for c in ("spider", "processor", "airflow"))
    grants = []
    for topic in RAW_TOPICS:
        grants += [
            Grant(spider, "topic", topic, ("WRITE", "DESCRIBE")),
            Grant(processor, "topic", topic, ("READ", "DESCRIBE")),
            # Lag and offsets need DESCRIBE; a re-drive sends records back to their topic.
            Grant(airflow, "topic", topic, ("DESCRIBE", "WRITE")),
        ]
    grants += [
        Grant(processor, "topic", DLQ.name, ("WRITE", "DESCRIBE")),
        Grant(processor, "group", GROUP_PREFIX, ("READ", "DESCRIBE"), prefixed=True),
        Grant(airflow, "topic", DLQ.name, ("DESCRIBE",)),
        # The crawl-request watcher reads events; a bad one goes to the DLQ.
        Grant(airflow, "topic", EVENTS.name, ("READ", "DESCRIBE")),
        Grant(airflow, "topic", DLQ.name, ("WRITE",)),
        Grant(airflow, "group", GROUP_PREFIX, ("DESCRIBE", "READ"), prefixed=True),
    ]
    return grants


def grant_components(admin: AdminClient, passwords: dict[str, str], timeout: float = 30.0) -> None:
    """Give every component its SCRAM password and its ACLs (idempotent; ``admin`` is super)."""
    from confluent_kafka.admin import (
        AclBinding,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialUpsertion,
    )

    upserts = [
        UserScramCredentialUpsertion(
            user,
            ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192),
            passwords[user].encode(),
        )
        for component, user in KAFKA_USERS.items()
        if component != ADMIN
    ]
    for user, future in admin.alter_user_scram_credentials(upserts).items():
        try:
            future.result(timeout=timeout)
        except KafkaException as exc:
            raise RuntimeError(
                f"could not set the SCRAM password of Kafka user {user}: {exc}"
            ) from exc
    bindings = [
        AclBinding(
            ResourceType.TOPIC if grant.resource == "topic" else ResourceType.GROUP,
            grant.name,
            ResourcePatternType.PREFIXED if grant.prefixed else ResourcePatternType.LITERAL,
            f"User:{grant.user}",
            "*",
            AclOperation[operation],
            AclPermissionType.ALLOW,
        )
        for grant in kafka_grants()
        for operation in grant.operations
    ]
    for binding, future in admin.create_acls(bindings, request_timeout=timeout).items():
        try:
            future.result(timeout=timeout)
        except KafkaException as exc:
            raise RuntimeError(f"could not create Kafka ACL {binding}: {exc}") from exc


def folder(stack_dir: Path) -> Path:
    """Where the secure mode keeps its certificates, passwords and settings."""
    return stack_dir / FOLDER


def settings_file(stack_dir: Path) -> Path:
    """The settings layer the secure mode adds over ``.env``."""
    return folder(stack_dir) / SETTINGS_FILE


def certificates(stack_dir: Path) -> StackCertificates:
    """The stack's CA and server certificate."""
    # Imported here: settings read this module, and cryptography is heavy to import.
    from sluice.stack.certificates import StackCertificates

    return StackCertificates(folder(stack_dir))


def credentials(stack_dir: Path) -> dict[str, dict[str, str]]:
    """The generated passwords (created on first use, mode 0600)."""
    path = folder(stack_dir) / CREDENTIALS_FILE
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    created = {
        "kafka": {user: secrets.token_urlsafe(24) for user in KAFKA_USERS.values()},
        "redis": {REDIS_USER: secrets.token_urlsafe(24)},
    }
    write_private(path, json.dumps(created, indent=2))
    return created


def component_file(stack_dir: Path, component: str) -> Path:
    """The settings layer of one component (its Kafka login), over ``settings.env``."""
    return folder(stack_dir) / f"{component}.env"


def enable(stack_dir: Path, hosts: list[str]) -> Path:
    """Turn the secure mode on for this stack: certificates, passwords, settings layers."""
    certificates(stack_dir).ensure(hosts)
    found = credentials(stack_dir)
    header = "# Written by `sluice stack up --secure`; `sluice stack reset` removes it.\n"
    for component, user in KAFKA_USERS.items():
        login = {"SLUICE_KAFKA_USERNAME": user, "SLUICE_KAFKA_PASSWORD": found["kafka"][user]}
        if component == ADMIN:
            continue
        write_private(component_file(stack_dir, component), header + _lines(login))
    common = {
        "SLUICE_STACK_SECURE": "true",
        "SLUICE_KAFKA_USERNAME": KAFKA_USERS[ADMIN],
        "SLUICE_KAFKA_PASSWORD": found["kafka"][KAFKA_USERS[ADMIN]],
        "SLUICE_REDIS_USERNAME": REDIS_USER,
        "SLUICE_REDIS_PASSWORD": found["redis"][REDIS_USER],
    }
    return write_private(settings_file(stack_dir), header + _lines(common))


def _lines(values: dict[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


def layers(stack_dir: Path, component: str) -> list[Path]:
    """The settings files the secure mode adds, in order (what exists of them)."""
    found = [settings_file(stack_dir)]
    if component and component != ADMIN:
        if component not in KAFKA_USERS:
            raise ValueError(
                f"SLUICE_COMPONENT={component!r} is not one of {', '.join(KAFKA_USERS)}"
            )
        found.append(component_file(stack_dir, component))
    return [path for path in found if path.is_file()]


def kafka_login(stack_dir: Path, component: str) -> tuple[str, str] | None:
    """(user, password) of ``component`` in Kafka; None when the stack is not secure."""
    if not settings_file(stack_dir).is_file():
        return None
    user = KAFKA_USERS[component]
    return user, credentials(stack_dir)["kafka"][user]


def component_environment(stack_dir: Path, component: str) -> dict[str, str]:
    """What makes a process of ``component`` log in to Kafka as itself: its name only.

    The password stays in the component's settings layer, so no supervisor or process
    listing shows it. Empty when the stack is not secure.
    """
    if not settings_file(stack_dir).is_file():
        return {}
    return {"SLUICE_COMPONENT": component}
