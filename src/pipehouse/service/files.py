"""Uploads: receiving them, who may see and use which one, and the shapes Open WebUI 0.12.4
gives them (its `FileModel`, `FileModelResponse` and the UI's `__files__` items).

Access rule: a file is its uploader's; admins may see and use every file (Open WebUI's default,
`BYPASS_ADMIN_ACCESS_CONTROL`). Anyone else is told the file does not exist (404, never 403),
so ids cannot be probed. Paths on the server are shown to admins only; plugins always get one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Collection
from pathlib import Path
from typing import Any, Protocol

from pipehouse.config import Settings
from pipehouse.files.multipart import MultipartError
from pipehouse.files.names import storage_key
from pipehouse.files.storage import LocalStorage, Storage
from pipehouse.files.text import content_type_for, is_text, read_text
from pipehouse.files.upload import StagedFile, UploadTooLarge, receive_form
from pipehouse.service.errors import ServiceError
from pipehouse.store.files import FileStore
from pipehouse.store.models import UploadedFile, now

log = logging.getLogger(__name__)

NOT_FOUND = "We could not find what you're looking for :/"
PAGE_SIZE = 50
FORM_OVERHEAD = 1024 * 1024  # a declared body this much over the file limit is refused unread


class Caller(Protocol):
    """Who asks (`pipehouse.api.principal.Principal` is one)."""

    @property
    def id(self) -> str: ...

    @property
    def is_admin(self) -> bool: ...


def too_large(limit: int) -> str:
    """Open WebUI's message, with the limit in MB."""
    return (
        "Oops! The file you're trying to upload is too large. Please upload a file that is "
        f"less than {limit / 1024 / 1024:g} MB."
    )


def parse_metadata(raw: str | None) -> dict[str, Any]:
    """The optional `metadata` form field: a JSON object (Open WebUI's UI sends one)."""
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise ServiceError(400, "Invalid metadata format") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ServiceError(400, "Invalid metadata format")
    return value


class FileService:
    def __init__(
        self, store: FileStore, storage: Storage, *, staging: Path, max_bytes: int | None
    ) -> None:
        self.store = store
        self.storage = storage
        self.staging = staging
        self.max_bytes = max_bytes

    @classmethod
    def from_settings(cls, settings: Settings, store: FileStore) -> FileService:
        """Files in the S3 bucket when one is set (downloaded for plugins to
        `data_dir/cache/s3`), else under `data_dir/uploads`; staged under
        `data_dir/cache/uploads` either way."""
        storage: Storage
        if settings.s3_bucket:
            from pipehouse.files.s3 import connect

            storage = connect(
                settings.s3_bucket,
                settings.data_dir / "cache" / "s3",
                endpoint_url=settings.s3_endpoint_url,
                region=settings.s3_region,
                prefix=settings.s3_prefix,
            )
        else:
            storage = LocalStorage(settings.data_dir / "uploads")
        return cls(
            store,
            storage,
            staging=settings.data_dir / "cache" / "uploads",
            max_bytes=settings.max_upload_bytes,
        )

    # -- receiving ----------------------------------------------------------------------------
    def check_declared_size(self, content_length: str | None) -> None:
        """Refuse a body whose declared length is already too large, before reading any of it."""
        if self.max_bytes is None or not content_length or not content_length.isdigit():
            return
        if int(content_length) > self.max_bytes + FORM_OVERHEAD:
            raise ServiceError(413, too_large(self.max_bytes))

    async def upload(
        self, user: Caller, chunks: AsyncIterator[bytes], content_type: str | None
    ) -> UploadedFile:
        """Store the `file` of a multipart form (with its optional `metadata` field)."""
        try:
            form = await receive_form(chunks, content_type, self.staging, self.max_bytes)
        except UploadTooLarge as exc:
            if exc.what == "file":
                raise ServiceError(413, too_large(exc.limit)) from None
            raise ServiceError(413, f"The {exc.what} are larger than {exc.limit} bytes") from None
        except MultipartError as exc:
            raise ServiceError(400, str(exc)) from None
        if form.file is None:
            raise ServiceError(
                422, [{"field": "file", "message": "Field required", "type": "missing"}]
            )
        try:
            return await self.create(user, form.file, parse_metadata(form.fields.get("metadata")))
        finally:
            form.file.discard()

    async def create(
        self, user: Caller, staged: StagedFile, metadata: dict[str, Any]
    ) -> UploadedFile:
        """Record a staged file and move it into storage."""
        file_id = str(uuid.uuid4())
        content_type = content_type_for(staged.content_type, staged.name)
        data: dict[str, Any] = {"status": "completed"}
        if is_text(content_type, staged.name):
            text = await asyncio.to_thread(read_text, staged.path, staged.size)
            if text is not None:
                data["content"] = text
        key = storage_key(file_id, staged.name)
        await self.storage.put(key, staged.path)
        stamp = now()
        row = UploadedFile(
            id=file_id,
            user_id=user.id,
            hash=staged.sha256,
            filename=staged.name,
            storage_key=key,
            data=data,
            meta={
                "name": staged.name,
                "content_type": content_type,
                "size": staged.size,
                "file_hash": staged.sha256,
                "data": metadata,
            },
            created_at=stamp,
            updated_at=stamp,
        )
        try:
            return await self.store.add(row)
        except BaseException:
            await self.storage.delete(key)
            raise

    # -- reading ------------------------------------------------------------------------------
    @staticmethod
    def may_use(user: Caller, row: UploadedFile) -> bool:
        return row.user_id == user.id or user.is_admin

    async def get(self, user: Caller, file_id: str) -> UploadedFile:
        row = await self.store.get(file_id)
        if row is None or not self.may_use(user, row):
            raise ServiceError(404, NOT_FOUND)
        return row

    async def usable(self, user: Caller, file_ids: Collection[str]) -> dict[str, UploadedFile]:
        """The files among `file_ids` this user may use, by id (one query)."""
        rows = await self.store.get_many(file_ids)
        return {row.id: row for row in rows if self.may_use(user, row)}

    async def page(self, user: Caller, page: int, with_content: bool) -> dict[str, Any]:
        """`{items, total}`: the caller's files (an admin's: everyone's), 50 per page."""
        rows, total = await self.store.page(
            None if user.is_admin else user.id, (page - 1) * PAGE_SIZE, PAGE_SIZE
        )
        return {"items": [response_view(r, with_content) for r in rows], "total": total}

    async def content(
        self, user: Caller, file_id: str
    ) -> tuple[UploadedFile, AsyncIterator[bytes]]:
        row = await self.get(user, file_id)
        try:
            return row, await self.storage.open(row.storage_key)
        except (FileNotFoundError, ValueError):
            log.warning("file %s has a record but no bytes under %r", row.id, row.storage_key)
            raise ServiceError(404, NOT_FOUND) from None

    # -- removing -----------------------------------------------------------------------------
    async def delete(self, user: Caller, file_id: str) -> None:
        row = await self.get(user, file_id)
        if await self.store.delete(row.id):
            await self._forget_bytes(row.storage_key)

    async def delete_all(self) -> int:
        keys = await self.store.delete_all()
        for key in keys:
            await self._forget_bytes(key)
        return len(keys)

    async def _forget_bytes(self, key: str) -> None:
        # the record is gone, so the file is gone for every user; bytes left behind are logged
        try:
            await self.storage.delete(key)
        except (OSError, ValueError) as exc:
            log.warning("could not remove the stored bytes of %r: %s", key, exc)

    async def fetch_local(self, rows: Collection[UploadedFile]) -> None:
        """Make sure the files' bytes are at their `local_path` before plugins get the paths
        (a remote backend downloads them); a file without bytes is logged and left out."""
        for row in rows:
            try:
                await self.storage.fetch(row.storage_key)
            except (FileNotFoundError, ValueError):
                log.warning("file %s has a record but no bytes under %r", row.id, row.storage_key)

    # -- shapes -------------------------------------------------------------------------------
    def local_path(self, row: UploadedFile) -> str | None:
        path = self.storage.local_path(row.storage_key)
        return str(path) if path is not None else None

    def model_view(self, row: UploadedFile, *, with_path: bool) -> dict[str, Any]:
        """Open WebUI's `FileModel` (`GET /api/v1/files/{id}`)."""
        return {
            "id": row.id,
            "user_id": row.user_id,
            "hash": row.hash,
            "filename": row.filename,
            "path": self.local_path(row) if with_path else None,
            "data": row.data,
            "meta": row.meta,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }

    def chat_item(self, row: UploadedFile) -> dict[str, Any]:
        """The item Open WebUI's UI puts in a chat request's `files`, which plugins receive as
        `__files__` (docs/files.md): the whole file record, with the local path, under `file`."""
        return {
            "type": "file",
            "id": row.id,
            "url": f"/api/v1/files/{row.id}",
            "name": row.filename,
            "status": "uploaded",
            "size": (row.meta or {}).get("size"),
            "file": {**self.model_view(row, with_path=True), "status": True},
        }


def response_view(row: UploadedFile, with_content: bool = True) -> dict[str, Any]:
    """Open WebUI's `FileModelResponse` (listings): no path; `content=false` drops the text."""
    data = dict(row.data or {})
    if not with_content:
        data.pop("content", None)
    return {
        "id": row.id,
        "user_id": row.user_id,
        "hash": row.hash,
        "filename": row.filename,
        "data": data,
        "meta": row.meta,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }
