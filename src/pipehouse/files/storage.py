"""Where uploaded bytes live, by key. Keys are made by pipehouse (`names.storage_key`), never
taken from a client; a backend still refuses any key that could leave its root.

Local disk is the default; an S3-compatible backend (`pipehouse.files.s3`) is an option that
needs boto3 (`pip install 'pipehouse[s3]'`).
"""

from __future__ import annotations

import asyncio
import errno
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import anyio

CHUNK = 64 * 1024
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


class Storage(Protocol):
    async def put(self, key: str, source: Path) -> None:
        """Take the finished file at `source` (moved away, not copied, when the backend can)."""
        ...

    async def get(self, key: str) -> bytes:
        """All the bytes; FileNotFoundError when there is nothing under `key`."""
        ...

    async def open(self, key: str, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        """The bytes as chunks, for responses that must not hold a whole file in memory;
        FileNotFoundError at once (not on the first chunk) when there is nothing."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove the bytes; False when there were none."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A path on this machine that plugins can open, when the backend has one (a remote
        backend's copy may not be there before `fetch` made it)."""
        ...

    async def fetch(self, key: str) -> Path | None:
        """`local_path`, with the bytes there: a remote backend downloads them now (plugins
        get the path in `__files__`); FileNotFoundError when there is nothing under `key`."""
        ...


def checked_key(key: str) -> str:
    if not _KEY.fullmatch(key) or ".." in key:
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files under one directory (`data_dir/uploads` by default), one file per key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def local_path(self, key: str) -> Path:
        return self.root / checked_key(key)

    async def fetch(self, key: str) -> Path:
        return self.local_path(key)  # already on this machine

    async def put(self, key: str, source: Path) -> None:
        target = self.local_path(key)
        await asyncio.to_thread(_move, Path(source), target)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self.local_path(key).read_bytes)

    async def open(self, key: str, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        handle = await anyio.open_file(self.local_path(key), "rb")
        return _chunks(handle, chunk_size)

    async def delete(self, key: str) -> bool:
        path = self.local_path(key)
        try:
            await asyncio.to_thread(path.unlink)
        except FileNotFoundError:
            return False
        return True


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(source, target)  # another file system: copy, then remove


async def _chunks(handle: anyio.AsyncFile[bytes], chunk_size: int) -> AsyncIterator[bytes]:
    try:
        while chunk := await handle.read(chunk_size):
            yield chunk
    finally:
        await handle.aclose()
