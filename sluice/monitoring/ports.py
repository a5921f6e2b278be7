"""Where the native stack's metrics live: one port per local process and exporter.

Containers all serve on 9200; locally every process needs its own port.
"""

HOST = "127.0.0.1"
#: Sluice's own long-running processes: each one's SLUICE_METRICS_PORT is the stack's
#: SLUICE_METRICS_BASE_PORT plus its offset here (a second stack on one machine moves the base).
METRICS_PORT_OFFSETS = {"archiver": 0, "normalizer": 1, "workers": 2, "exporter": 3, "webhooks": 4}
POSTGRES_EXPORTER_PORT = 9187
REDIS_EXPORTER_PORT = 9121
STATSD_EXPORTER_PORT = 9102
#: UDP port Airflow sends StatsD to.
STATSD_PORT = 9125


def metrics_port(base: int, program: str) -> int:
    """The local metrics port of Sluice process ``program`` on a stack whose base is ``base``."""
    return base + METRICS_PORT_OFFSETS[program]
