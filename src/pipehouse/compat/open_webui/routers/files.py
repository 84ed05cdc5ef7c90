"""`open_webui.routers.files`: storing a file the way an upload through the API stores it.

`upload_file_handler` (and `upload_file`, the older name) take an `UploadFile`, as plugins that
save generated images build one, and go through pipehouse's files service: the bytes land in
its storage and the record is one `GET /api/v1/files/{id}/content` serves. `process=True`
extracts text the way the files service does for uploads (UTF-8 text only); nothing is queued
for Open WebUI's retrieval pipeline, which pipehouse does not have.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipehouse.compat.bridge import dual
from pipehouse.compat.errors import CompatError, missing_names
from pipehouse.compat.services import Backend
from pipehouse.files.names import display_name
from pipehouse.files.upload import StagedFile

__getattr__ = missing_names(__name__)


@dataclass(frozen=True)
class _Uploader:
    """Who the file belongs to, as the files service asks (`Caller`)."""

    id: str
    is_admin: bool


def _uploader(user: Any) -> _Uploader:
    if isinstance(user, dict):
        user_id, role = user.get("id"), user.get("role")
    else:
        user_id, role = getattr(user, "id", None), getattr(user, "role", None)
    if not isinstance(user_id, str) or not user_id:
        raise CompatError("upload_file_handler needs `user` (a UserModel or the __user__ dict)")
    return _Uploader(user_id, role == "admin")


def _metadata(metadata: Any) -> dict[str, Any]:
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            raise CompatError("Invalid metadata format") from None
    return dict(metadata or {})


def _stage(upload: Any, staging: Path) -> StagedFile:
    """Write the upload's bytes to a staging file, hashing them on the way."""
    source = getattr(upload, "file", upload)
    if hasattr(source, "seek"):
        source.seek(0)
    contents = source.read()
    if isinstance(contents, str):
        contents = contents.encode()
    if not contents:
        raise CompatError("The content provided is empty")
    staging.mkdir(parents=True, exist_ok=True)
    path = staging / f"{uuid.uuid4().hex}.part"
    path.write_bytes(contents)
    headers = getattr(upload, "headers", None)
    content_type = getattr(upload, "content_type", None) or (
        headers.get("content-type") if headers is not None else None
    )
    return StagedFile(
        path=path,
        name=display_name(getattr(upload, "filename", None)),
        content_type=content_type,
        size=len(contents),
        sha256=hashlib.sha256(contents).hexdigest(),
    )


async def _store(
    backend: Backend, file: Any, metadata: Any, process: bool, user: Any
) -> dict[str, Any] | Any:
    # Local import: `models.files` is served under its Open WebUI name, not importable directly.
    from open_webui.models.files import file_model

    if backend.files is None:
        raise CompatError("this pipehouse server has no files service")
    uploader = _uploader(user)
    staged = await asyncio.to_thread(_stage, file, backend.files.staging)
    try:
        row = await backend.files.create(uploader, staged, _metadata(metadata))
    finally:
        staged.discard()
    model = file_model(backend, row)
    # Open WebUI 0.12.4 answers a processed upload with a dict, an unprocessed one with the model.
    return {"status": True, **model.model_dump()} if process else model


class _Handlers:
    @dual(label="upload_file_handler")
    async def upload_file_handler(
        backend: Backend,
        request: Any = None,
        file: Any = None,
        metadata: Any = None,
        process: bool = True,
        process_in_background: bool = True,
        user: Any = None,
        background_tasks: Any = None,
        db: Any = None,
        **_: Any,
    ) -> Any:
        return await _store(backend, file, metadata, process, user)

    @dual(label="upload_file")
    async def upload_file(
        backend: Backend,
        request: Any = None,
        background_tasks: Any = None,
        file: Any = None,
        metadata: Any = None,
        process: bool = True,
        process_in_background: bool = True,
        user: Any = None,
        db: Any = None,
        file_metadata: Any = None,
        **_: Any,
    ) -> Any:
        """The route function. Older releases had `upload_file(request, file, user,
        file_metadata, process)`: called that way (an upload in second place), it is read so."""
        if hasattr(background_tasks, "filename"):
            file, user, file_metadata = background_tasks, file or user, metadata or file_metadata
            metadata = None
        return await _store(backend, file, metadata or file_metadata, process, user)


_handlers = _Handlers()
upload_file_handler = _handlers.upload_file_handler
upload_file = _handlers.upload_file
