"""`open_webui.models.files`: pipehouse's uploads as Open WebUI's `FileModel`s.

`Files` reads and writes the records of pipehouse's files service; `FileModel.path` is the
local path of the bytes. As in Open WebUI, these methods see every user's files: plugin code is
trusted, admin-installed code. They need `pipehouse serve` (the command line has no database).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import delete, select

from pipehouse.compat.bridge import AwaitableModel, Table, dual
from pipehouse.compat.errors import CompatError, missing_names
from pipehouse.compat.paths import storage_name
from pipehouse.compat.services import Backend
from pipehouse.files.names import storage_key
from pipehouse.store.models import UploadedFile

__all__ = [
    "FileForm",
    "FileMeta",
    "FileModel",
    "FileModelResponse",
    "FileUpdateForm",
    "Files",
    "FilesTable",
]
__getattr__ = missing_names(__name__)

log = logging.getLogger(__name__)


class FileModel(AwaitableModel):
    id: str
    user_id: str
    hash: str | None = None
    filename: str
    path: str | None = None
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    created_at: int | None
    updated_at: int | None

    model_config = ConfigDict(from_attributes=True)


class FileMeta(AwaitableModel):
    name: str | None = None
    content_type: str | None = None
    size: int | None = None

    model_config = ConfigDict(extra="allow")


class FileModelResponse(AwaitableModel):
    id: str
    user_id: str
    hash: str | None = None
    filename: str
    data: dict[str, Any] | None = None
    meta: FileMeta | None = None
    created_at: int
    updated_at: int | None = None

    model_config = ConfigDict(extra="allow")


class FileForm(AwaitableModel):
    id: str
    hash: str | None = None
    filename: str
    path: str
    data: dict[str, Any] = {}
    meta: dict[str, Any] = {}


class FileUpdateForm(AwaitableModel):
    hash: str | None = None
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None


def file_model(backend: Backend, row: UploadedFile) -> FileModel:
    assert backend.files is not None
    return FileModel(
        id=row.id,
        user_id=row.user_id,
        hash=row.hash,
        filename=row.filename,
        path=backend.files.local_path(row),
        data=row.data,
        meta=row.meta,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _fetched(backend: Backend, row: UploadedFile) -> FileModel:
    """The model of a file a plugin asked for by id, with its bytes at `path` (a remote storage
    backend downloads them). The listings (`get_files`, ...) do not download every file."""
    await _files(backend).fetch_local([row])
    return file_model(backend, row)


def _files(backend: Backend) -> Any:
    if backend.files is None:
        raise CompatError("this pipehouse server has no files service")
    return backend.files


async def _key_for(backend: Backend, form: FileForm) -> str | None:
    """The storage key of the bytes at `form.path`: the name they were stored under when the
    path is in the storage directory (`Storage.upload_file` put them there), else a copy is
    stored under a key made from the file's id. None when there is no file at the path."""
    storage = _files(backend).storage
    source = Path(form.path)
    root = getattr(storage, "root", None)
    if not source.is_file():
        return None
    in_storage = root is not None and source.parent.resolve() == Path(root).resolve()
    if in_storage and storage_name(source.name) == source.name:
        return source.name
    key = storage_key(form.id, form.filename)
    # a staged copy, handed to the backend as an upload is (it takes the copy, not the original)
    copy = await asyncio.to_thread(_copy, source, Path(_files(backend).staging))
    try:
        await storage.put(key, copy)
    finally:
        copy.unlink(missing_ok=True)
    return key


def _copy(source: Path, staging: Path) -> Path:
    staging.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=staging, suffix=".part")
    os.close(fd)
    shutil.copyfile(source, name)
    return Path(name)


async def _update(
    backend: Backend, id: str, **merge: dict[str, Any] | str | None
) -> FileModel | None:
    """Merge dicts into `data`/`meta` (or set `hash`), bump `updated_at`; None when missing."""
    async with backend.db.session() as session:
        row = await session.get(UploadedFile, id)
        if row is None:
            return None
        for column, value in merge.items():
            if isinstance(value, dict):
                setattr(row, column, {**(getattr(row, column) or {}), **value})
            else:
                setattr(row, column, value)
        row.updated_at = int(time.time())
        await session.commit()
        return file_model(backend, row)


async def _rows(backend: Backend, ids: Iterable[str] | None = None, **where: str) -> list[Any]:
    query = select(UploadedFile).order_by(UploadedFile.updated_at.desc())
    if ids is not None:
        query = query.where(UploadedFile.id.in_(list(ids)))
    for column, value in where.items():
        query = query.where(getattr(UploadedFile, column) == value)
    async with backend.db.session() as session:
        return list((await session.execute(query)).scalars().all())


class FilesTable(Table):
    """`Files`: call each method with `await` (Open WebUI 0.12.4) or without (older
    releases); see `pipehouse.compat.bridge`."""

    @dual()
    async def insert_new_file(
        backend: Backend, user_id: str, form_data: FileForm, db: Any = None
    ) -> FileModel | None:
        """Record a file whose bytes are at `form_data.path`; None (as Open WebUI answers a
        failed insert) when there are none."""
        form = form_data if isinstance(form_data, FileForm) else FileForm.model_validate(form_data)
        key = await _key_for(backend, form)
        if key is None:
            log.warning("Files.insert_new_file: no file at %s; nothing recorded", form.path)
            return None
        stamp = int(time.time())
        row = UploadedFile(
            id=form.id,
            user_id=user_id,
            hash=form.hash,
            filename=form.filename,
            storage_key=key,
            data=dict(form.data),
            meta=dict(form.meta),
            created_at=stamp,
            updated_at=stamp,
        )
        await _files(backend).store.add(row)
        return file_model(backend, row)

    @dual()
    async def get_file_by_id(backend: Backend, id: str, db: Any = None) -> FileModel | None:
        row = await _files(backend).store.get(id)
        return await _fetched(backend, row) if row is not None else None

    @dual()
    async def get_file_by_id_and_user_id(
        backend: Backend, id: str, user_id: str, db: Any = None
    ) -> FileModel | None:
        row = await _files(backend).store.get(id)
        if row is None or row.user_id != user_id:
            return None
        return await _fetched(backend, row)

    @dual()
    async def get_files_by_ids(backend: Backend, ids: list[str], db: Any = None) -> list[FileModel]:
        rows = await _rows(backend, ids)
        await _files(backend).fetch_local(rows)
        return [file_model(backend, row) for row in rows]

    @dual()
    async def get_files_by_user_id(
        backend: Backend, user_id: str, db: Any = None
    ) -> list[FileModel]:
        return [file_model(backend, row) for row in await _rows(backend, user_id=user_id)]

    @dual()
    async def get_files(backend: Backend, db: Any = None) -> list[FileModel]:
        return [file_model(backend, row) for row in await _rows(backend)]

    @dual()
    async def update_file_by_id(
        backend: Backend, id: str, form_data: FileUpdateForm, db: Any = None
    ) -> FileModel | None:
        changes = {k: v for k, v in form_data.model_dump().items() if v is not None}
        return await _update(backend, id, **changes)

    @dual()
    async def update_file_data_by_id(
        backend: Backend, id: str, data: dict[str, Any], db: Any = None
    ) -> FileModel | None:
        return await _update(backend, id, data=data)

    @dual()
    async def update_file_metadata_by_id(
        backend: Backend, id: str, meta: dict[str, Any], db: Any = None
    ) -> FileModel | None:
        return await _update(backend, id, meta=meta)

    @dual()
    async def update_file_hash_by_id(
        backend: Backend, id: str, hash: str | None, db: Any = None
    ) -> FileModel | None:
        return await _update(backend, id, hash=hash)

    @dual()
    async def delete_file_by_id(backend: Backend, id: str, db: Any = None) -> bool:
        """Remove the record (the bytes stay, as in Open WebUI: `Storage.delete_file`)."""
        async with backend.db.session() as session:
            await session.execute(delete(UploadedFile).where(UploadedFile.id == id))
            await session.commit()
        return True


Files = FilesTable()
