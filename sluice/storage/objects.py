"""The object store: S3 buckets for backup sets, daily exports and DAG bundles, via boto3.

Locally the native stack's SeaweedFS answers at ``SLUICE_OBJECT_STORE_URL`` with the access
and secret key of the settings; in the cluster it is AWS S3, reached with the pod's IAM role
(``SLUICE_OBJECT_STORE_AUTH=aws``: the AWS SDK's default credential chain, IRSA included).
A "folder" is every object under a key prefix ending in ``/``. Every failure is raised as
:class:`ObjectStoreError`, naming the store, the bucket and the cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sluice.settings import Settings

#: Retries of one request on throttling and transient errors before it fails.
ATTEMPTS = 3


class ObjectStoreError(Exception):
    """The object store refused or could not be reached; the message says where and why."""


@dataclass(frozen=True)
class StoredObject:
    """One object: its key, size and when it was last written."""

    key: str
    size: int
    modified: datetime


class ObjectStore:
    """A boto3 S3 client for the store the settings name, with errors that say where."""

    def __init__(self, settings: Settings, timeout: float = 10.0) -> None:
        import boto3
        from botocore.config import Config

        self.where = settings.object_store_url or "AWS S3"
        keys: dict[str, Any] = {}
        if settings.object_store_auth == "keys":
            keys = {
                "aws_access_key_id": settings.object_store_access_key,
                "aws_secret_access_key": settings.object_store_secret_key,
            }
        self.client = boto3.client(
            "s3",
            endpoint_url=settings.object_store_url or None,
            region_name=settings.aws_region or "us-east-1",
            config=Config(
                # A store that does not answer fails in seconds, not after every retry.
                connect_timeout=min(timeout, 3.0),
                read_timeout=max(timeout, 60.0),
                retries={"max_attempts": ATTEMPTS, "mode": "standard"},
                # Path-style URLs: the local store has no per-bucket host names.
                s3={"addressing_style": "path"},
            ),
            **keys,
        )

    # -- buckets ------------------------------------------------------------------------------
    def bucket_names(self) -> list[str]:
        """Every bucket this identity may list."""
        with self._failing("listing the buckets"):
            return [b["Name"] for b in self.client.list_buckets().get("Buckets", [])]

    def ensure_bucket(self, bucket: str) -> bool:
        """Create ``bucket`` unless it exists; True when it was created."""
        if bucket in self.bucket_names():
            return False
        with self._failing(f"creating bucket {bucket}"):
            self.client.create_bucket(Bucket=bucket)
        return True

    # -- objects ------------------------------------------------------------------------------
    def objects(self, bucket: str, prefix: str = "") -> Iterator[StoredObject]:
        """Every object under ``prefix``, in key order."""
        with self._failing(f"listing s3://{bucket}/{prefix}"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    yield StoredObject(item["Key"], item["Size"], item["LastModified"])

    def put_file(self, bucket: str, key: str, path: Path) -> None:
        """Upload ``path`` as ``key``."""
        with self._failing(f"uploading {path} to s3://{bucket}/{key}"):
            self.client.upload_file(str(path), bucket, key)

    def put_folder(self, bucket: str, prefix: str, folder: Path) -> list[str]:
        """Upload every file under ``folder`` below ``prefix``; the keys written, in order."""
        keys = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            key = f"{prefix}{path.relative_to(folder).as_posix()}"
            self.put_file(bucket, key, path)
            keys.append(key)
        return keys

    def get_folder(self, bucket: str, prefix: str, folder: Path) -> list[Path]:
        """Download every object under ``prefix`` into ``folder``; the files written."""
        written = []
        for item in self.objects(bucket, prefix):
            target = folder / item.key[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            with self._failing(f"downloading s3://{bucket}/{item.key}"):
                self.client.download_file(bucket, item.key, str(target))
            written.append(target)
        if not written:
            raise ObjectStoreError(f"{self.where}: nothing under s3://{bucket}/{prefix}")
        return written

    def read(self, bucket: str, key: str) -> bytes:
        """The content of ``key``."""
        with self._failing(f"reading s3://{bucket}/{key}"):
            return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def delete(self, bucket: str, keys: list[str]) -> None:
        """Delete exactly ``keys`` (no prefix matching), in S3's batches of 1,000."""
        for start in range(0, len(keys), 1000):
            chunk = [{"Key": key} for key in keys[start : start + 1000]]
            with self._failing(f"deleting {len(chunk)} object(s) of s3://{bucket}"):
                self.client.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})

    def delete_folder(self, bucket: str, prefix: str) -> int:
        """Delete every object under ``prefix``; how many were deleted."""
        keys = [item.key for item in self.objects(bucket, prefix)]
        self.delete(bucket, keys)
        return len(keys)

    # -- errors -------------------------------------------------------------------------------
    def _failing(self, doing: str) -> _Failing:
        return _Failing(self.where, doing)


class _Failing:
    """Turns botocore's errors into :class:`ObjectStoreError` naming the store and the step."""

    def __init__(self, where: str, doing: str) -> None:
        self.where, self.doing = where, doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, _tb) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        if exc is None or not isinstance(exc, (BotoCoreError, ClientError)):
            return False
        raise ObjectStoreError(f"{self.where}: {self.doing}: {_cause(exc)}") from exc


def _cause(exc: BaseException) -> str:
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    if isinstance(exc, EndpointConnectionError):
        return "cannot reach the store (is it running, is SLUICE_OBJECT_STORE_URL right?)"
    if isinstance(exc, NoCredentialsError):
        return "no credentials (set the access keys, or give the pod an IAM role)"
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
            return f"refused ({code}): check the access and secret key or the IAM role"
        if code == "NoSuchBucket":
            return "the bucket does not exist"
        return f"{code}: {exc.response.get('Error', {}).get('Message', exc)}"
    return str(exc)
