"""One module per native service; :func:`all_services` lists them in start order."""

from __future__ import annotations

from sluice.settings import Settings
from sluice.stack.services.base import Service
from sluice.stack.services.ferretdb import FerretDB
from sluice.stack.services.kafka import Kafka
from sluice.stack.services.postgres import Postgres
from sluice.stack.services.redis import Redis


def all_services(settings: Settings) -> list[Service]:
    """The data services of ``sluice stack``, in the order they are reported."""
    return [Postgres(settings), Redis(settings), Kafka(settings), FerretDB(settings)]
