"""Where the native stack's metrics live: one port per local process and exporter.

Containers all serve on 9200; locally every process needs its own port.
"""

HOST = "127.0.0.1"
#: Sluice's own long-running processes (SLUICE_METRICS_PORT of each).
METRICS_PORTS = {"archiver": 9201, "normalizer": 9202, "workers": 9203, "exporter": 9204}
POSTGRES_EXPORTER_PORT = 9187
REDIS_EXPORTER_PORT = 9121
STATSD_EXPORTER_PORT = 9102
#: UDP port Airflow sends StatsD to.
STATSD_PORT = 9125
