"""Files named in a chat request, resolved for the requesting user before any plugin sees the
request: each reference to an upload becomes the item Open WebUI's UI sends (docs/files.md), with
the whole file record, its text and a local path, so plugins read it through `__files__`.

A reference is an item of type "file" (or without a type) whose id is shaped as pipehouse's
file ids (a UUID). Every other item is the client's own description and passes through as
sent, except that it may not carry a `path`: only pipehouse hands plugins paths, and only to
files the user may use. A reference to a file that does not exist or is another user's is a
404 for the whole request, the same answer in both cases.
"""

from __future__ import annotations

import re
from typing import Any

from pipehouse.runtime.errors import RequestError
from pipehouse.service.files import Caller, FileService
from pipehouse.store.models import UploadedFile

_FILE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class FileNotFound(RequestError):
    status = 404
    type = "not_found_error"

    def __init__(self, file_id: str) -> None:
        self.file_id = file_id
        super().__init__(f"file {file_id} not found")


def referenced_id(item: Any) -> str | None:
    """The id of the upload `item` refers to, or None when it refers to none."""
    if not isinstance(item, dict) or item.get("type", "file") not in ("file", None):
        return None
    inner = item.get("file")
    candidate = item.get("id") or (inner.get("id") if isinstance(inner, dict) else None)
    if not isinstance(candidate, str):
        return None
    candidate = candidate.lower()
    return candidate if _FILE_ID.fullmatch(candidate) else None


def names_files(body: Any) -> bool:
    """Whether `body` has a `files` or `metadata.files` list to resolve. Cheap: it runs for
    every completion, and most name no files."""
    if type(body) is not dict:
        return False
    if body.get("files"):
        return True
    metadata = body.get("metadata")
    return type(metadata) is dict and bool(metadata.get("files"))


async def resolve_request_files(body: Any, user: Caller, files: FileService) -> Any:
    """`body` with its `files` and `metadata.files` resolved (a new dict; the given one is left
    as it was); `body` itself when it names no files. Raises FileNotFound (404) or
    RequestError (400, a client-made path)."""
    if not isinstance(body, dict):
        return body
    metadata = body.get("metadata")
    lists = {
        "files": body.get("files"),
        "metadata.files": metadata.get("files") if isinstance(metadata, dict) else None,
    }
    given = {where: items for where, items in lists.items() if isinstance(items, list) and items}
    if not given:
        return body
    ids = {file_id for items in given.values() for file_id in map(referenced_id, items) if file_id}
    usable = await files.usable(user, ids) if ids else {}
    await files.fetch_local(usable.values())  # plugins read the bytes at the paths they get
    body = dict(body)
    for where, items in given.items():
        resolved = [_resolve(item, f"{where}[{i}]", usable, files) for i, item in enumerate(items)]
        if where == "files":
            body["files"] = resolved
        else:
            assert isinstance(metadata, dict)  # `metadata.files` was found in it
            body["metadata"] = {**metadata, "files": resolved}
    return body


def _resolve(item: Any, where: str, usable: dict[str, UploadedFile], files: FileService) -> Any:
    file_id = referenced_id(item)
    if file_id is None:
        _refuse_client_path(item, where)
        return item
    row = usable.get(file_id)
    if row is None:
        raise FileNotFound(file_id)
    return {**item, **files.chat_item(row)}  # the client's other keys (itemId, ...) stay


def _refuse_client_path(item: Any, where: str) -> None:
    if not isinstance(item, dict):
        return
    inner = item.get("file")
    if item.get("path") or (isinstance(inner, dict) and inner.get("path")):
        raise RequestError(
            f"'{where}' carries a path; only files uploaded to pipehouse have one, set by the "
            "server: upload the file to /api/v1/files/ and refer to it by its id"
        )
