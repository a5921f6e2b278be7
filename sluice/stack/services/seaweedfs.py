"""The object store of the native stack: SeaweedFS (master, volume, filer and S3 gateway).

Backups, daily exports and DAG bundles go to S3 buckets; in the cluster they are AWS S3
buckets, locally this S3-compatible server, built once from the Go module proxy into the
cache as FerretDB is. One ``weed server`` process runs every part on loopback; the S3 gateway
answers on the port of ``SLUICE_OBJECT_STORE_URL`` and knows one identity (the access and
secret key of the settings), so an unsigned or wrongly signed request is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from sluice.private_files import write_private
from sluice.stack.golang import GoBuild
from sluice.stack.progress import Progress
from sluice.stack.services.base import NotReady, Program, Service
from sluice.storage.objects import ObjectStore, ObjectStoreError

BUILD = GoBuild(
    asset="seaweedfs",
    name="sluice-seaweedfs",
    files=("go.mod", "go.sum"),
    package="github.com/seaweedfs/seaweedfs/weed",
    what="SeaweedFS",
    expect="first run only, ~4 min",
)
#: The internal parts listen just above the S3 port (and 10000 higher, for gRPC).
MASTER_OFFSET, VOLUME_OFFSET, FILER_OFFSET = 1, 2, 3
GRPC_OFFSET = 10000
#: Volumes are small locally: the default of 30 GB each is for servers with disks to fill.
VOLUME_SIZE_MB = 256


class SeaweedFS(Service):
    """SeaweedFS with its S3 gateway, data in ``.stack/seaweedfs``."""

    name = "seaweedfs"

    def __init__(self, settings) -> None:
        super().__init__(settings)
        parts = urlsplit(settings.object_store_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 8333

    def listen_addresses(self) -> list[tuple[str, int]]:
        http = [self.port + offset for offset in (0, MASTER_OFFSET, VOLUME_OFFSET, FILER_OFFSET)]
        return [(self.host, port) for port in (*http, *(p + GRPC_OFFSET for p in http))]

    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def binary(self) -> Path:
        """The built ``weed`` (a new binary whenever the pinned version changes)."""
        return BUILD.binary(self.cache_dir)

    @property
    def s3_config(self) -> Path:
        """The S3 gateway's identities (the access and secret key of the settings)."""
        return self.data_dir / "s3.json"

    def install(self, progress: Progress) -> None:
        BUILD.install(self.cache_dir, self.settings.cache_dir / "go", progress, self.name)

    def prepare(self, progress: Progress) -> None:
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        identity = {
            "name": "sluice",
            "credentials": [
                {
                    "accessKey": self.settings.object_store_access_key,
                    "secretKey": self.settings.object_store_secret_key,
                }
            ],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        write_private(self.s3_config, json.dumps({"identities": [identity]}, indent=2))

    def program(self) -> Program:
        port = self.port
        return Program(
            name=self.name,
            command=[
                str(self.binary),
                "server",
                f"-dir={(self.data_dir / 'data').resolve()}",
                f"-ip={self.host}",
                f"-ip.bind={self.host}",
                f"-master.port={port + MASTER_OFFSET}",
                f"-master.volumeSizeLimitMB={VOLUME_SIZE_MB}",
                "-master.telemetry=false",
                f"-volume.port={port + VOLUME_OFFSET}",
                "-volume.max=0",
                "-volume.preStopSeconds=0",
                f"-filer.port={port + FILER_OFFSET}",
                "-s3",
                f"-s3.port={port}",
                f"-s3.config={self.s3_config.resolve()}",
                # The gateway's optional catalog servers would take ports Airflow tests use.
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
            ],
            directory=self.data_dir.resolve(),
            stopwaitsecs=30,
            startsecs=2,
        )

    def check_ready(self) -> str:
        try:
            buckets = ObjectStore(self.settings, timeout=2).bucket_names()
        except ObjectStoreError as exc:
            raise NotReady(str(exc)) from exc
        return f"SeaweedFS S3 gateway ({len(buckets)} bucket(s))"

    def bootstrap(self, progress: Progress) -> None:
        store = ObjectStore(self.settings)
        for bucket in self.settings.buckets():
            if store.ensure_bucket(bucket):
                progress.say(self.name, f"bucket created {bucket}")
