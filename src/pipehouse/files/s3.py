"""Uploads in an S3-compatible bucket (AWS S3, MinIO, Ceph, ...), through boto3.

boto3 is an optional dependency (`pip install 'pipehouse[s3]'`), imported only when a bucket is
configured. Its calls block, so each runs in a worker thread. Credentials are boto3's own
business (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, a profile, an instance role): pipehouse
never reads or logs them.

Plugins are handed local paths (`__files__` items carry one, as in Open WebUI, whose S3 provider
downloads to its upload directory), so an object is downloaded to a cache directory the first
time a plugin needs it. Keys are never reused (each holds one file id), so a cached copy never
goes stale; deleting the object removes the copy too.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pipehouse.files.storage import CHUNK, checked_key

MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
INSTALL_HINT = "PIPEHOUSE_S3_BUCKET is set but boto3 is not installed: pip install 'pipehouse[s3]'"


def connect(
    bucket: str,
    cache_dir: Path,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    prefix: str = "",
) -> S3Storage:
    """An `S3Storage` with a boto3 client made from the settings (no network call yet)."""
    try:
        import boto3
    except ImportError:
        raise RuntimeError(INSTALL_HINT) from None
    client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None)
    return S3Storage(client, bucket, cache_dir, prefix=prefix)


def _missing(exc: Exception) -> bool:
    """Whether a botocore `ClientError` says the object is not there."""
    response: Any = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code")) in MISSING_CODES


class S3Storage:
    """One object per key in `bucket`, under an optional `prefix` (`"pipehouse/"`)."""

    def __init__(self, client: Any, bucket: str, cache_dir: Path, *, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.cache_dir = Path(cache_dir).resolve()
        self.prefix = prefix

    def object_key(self, key: str) -> str:
        return self.prefix + checked_key(key)

    def local_path(self, key: str) -> Path:
        """Where the local copy is, or will be once `fetch` made it."""
        return self.cache_dir / checked_key(key)

    async def put(self, key: str, source: Path) -> None:
        name = self.object_key(key)
        await asyncio.to_thread(self.client.upload_file, str(source), self.bucket, name)
        Path(source).unlink(missing_ok=True)  # as LocalStorage moves it: the staged file goes

    async def _get_object(self, key: str) -> Any:
        try:
            return await asyncio.to_thread(
                self.client.get_object, Bucket=self.bucket, Key=self.object_key(key)
            )
        except Exception as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from None
            raise

    async def get(self, key: str) -> bytes:
        body = (await self._get_object(key))["Body"]
        try:
            return await asyncio.to_thread(body.read)
        finally:
            body.close()

    async def open(self, key: str, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        body = (await self._get_object(key))["Body"]  # a missing key raises here, at once
        return _chunks(body, chunk_size)

    async def delete(self, key: str) -> bool:
        name = self.object_key(key)
        self.local_path(key).unlink(missing_ok=True)
        try:
            await asyncio.to_thread(self.client.head_object, Bucket=self.bucket, Key=name)
        except Exception as exc:
            if _missing(exc):
                return False
            raise
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=name)
        return True

    async def fetch(self, key: str) -> Path:
        """Download the object to `local_path` unless it is there already."""
        target = self.local_path(key)
        if target.is_file():
            return target
        try:
            await asyncio.to_thread(self._download, self.object_key(key), target)
        except Exception as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from None
            raise
        return target

    def _download(self, name: str, target: Path) -> None:
        # into a temporary file first, so that a half-written copy is never taken for a whole one
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".part")
        os.close(fd)
        try:
            self.client.download_file(self.bucket, name, partial)
            os.replace(partial, target)
        finally:
            Path(partial).unlink(missing_ok=True)


async def _chunks(body: Any, chunk_size: int) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(body.read, chunk_size):
            yield chunk
    finally:
        body.close()
