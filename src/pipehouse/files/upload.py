"""Receiving an upload form: the `file` part goes straight to a staging file on disk (hashed
and counted on the way, stopped at the size limit), small text fields are kept in memory."""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from pipehouse.files.multipart import (
    PART_END,
    MultipartError,
    MultipartParser,
    Part,
    boundary_of,
)
from pipehouse.files.names import display_name

FILE_FIELD = "file"
MAX_FIELD_BYTES = 256 * 1024  # all text fields together (Open WebUI's `metadata` is small)


class UploadTooLarge(Exception):
    """More bytes than allowed; `limit` is the limit that was passed, in bytes."""

    def __init__(self, limit: int, what: str = "file") -> None:
        self.limit = limit
        self.what = what
        super().__init__(f"the {what} is larger than {limit} bytes")


@dataclass
class StagedFile:
    """An uploaded file on local disk, waiting to be stored; `discard()` when not kept."""

    path: Path
    name: str  # the client's name, made safe to show; never used for a path
    content_type: str | None
    size: int = 0
    sha256: str = ""

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass
class ReceivedForm:
    file: StagedFile | None
    fields: dict[str, str] = field(default_factory=dict)


class _FileSink:
    def __init__(self, staged: StagedFile, handle: anyio.AsyncFile[bytes], limit: int | None):
        self.staged = staged
        self.handle = handle
        self.limit = limit
        self.hasher = hashlib.sha256()

    async def write(self, data: bytes) -> None:
        self.staged.size += len(data)
        if self.limit is not None and self.staged.size > self.limit:
            raise UploadTooLarge(self.limit)
        self.hasher.update(data)
        await self.handle.write(data)

    async def close(self) -> None:
        await self.handle.aclose()
        self.staged.sha256 = self.hasher.hexdigest()


async def receive_form(
    chunks: AsyncIterator[bytes],
    content_type: str | None,
    staging: Path,
    max_file_bytes: int | None,
) -> ReceivedForm:
    """Read a whole multipart form. Raises MultipartError for a malformed form (or a second
    file), UploadTooLarge past the limit; either way nothing stays on disk."""
    parser = MultipartParser(boundary_of(content_type))
    form = ReceivedForm(file=None)
    sink: _FileSink | None = None
    field_name: str | None = None  # the text field being read
    field_bytes = bytearray()
    total_field_bytes = 0
    try:
        async for chunk in chunks:
            for event in parser.feed(chunk):
                if isinstance(event, Part):
                    if event.name == FILE_FIELD:
                        if form.file is not None:
                            raise MultipartError("one file per upload: found a second 'file'")
                        sink = await _open_sink(staging, event, max_file_bytes)
                        form.file = sink.staged
                    elif event.filename is None and event.name:
                        field_name = event.name
                    # any other file part is skipped: its bytes are neither read nor kept
                elif event is PART_END:
                    if sink is not None:
                        await sink.close()
                        sink = None
                    elif field_name is not None:
                        form.fields[field_name] = field_bytes.decode("utf-8", errors="replace")
                        field_name, field_bytes = None, bytearray()
                elif sink is not None:
                    await sink.write(event)
                elif field_name is not None:
                    total_field_bytes += len(event)
                    if total_field_bytes > MAX_FIELD_BYTES:
                        raise UploadTooLarge(MAX_FIELD_BYTES, "form's text fields")
                    field_bytes += event
        parser.close()
    except BaseException:
        if sink is not None:
            with contextlib.suppress(Exception):
                await sink.handle.aclose()
        if form.file is not None:
            form.file.discard()
        raise
    return form


async def _open_sink(staging: Path, part: Part, limit: int | None) -> _FileSink:
    await anyio.Path(staging).mkdir(parents=True, exist_ok=True)
    staged = StagedFile(
        path=staging / f"{uuid.uuid4().hex}.part",
        name=display_name(part.filename),
        content_type=part.content_type,
    )
    return _FileSink(staged, await anyio.open_file(staged.path, "wb"), limit)


def upload_form(**fields: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of an upload route: a multipart `file`, plus `fields`. (The
    routes read the form themselves, so FastAPI cannot describe it.)"""
    properties = {"file": {"type": "string", "format": "binary"}, **fields}
    schema = {"type": "object", "required": ["file"], "properties": properties}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }
