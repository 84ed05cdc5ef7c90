"""Where a plugin file installed through the Pipelines protocol comes from: a URL
(`POST /pipelines/add`) or a form upload (`POST /pipelines/upload`).

Both are admin-only, and an admin can already run any code on the server by installing it, so
fetching a URL an admin names adds no new power. What is guarded is the server itself: only
http(s), only `.py` files, at most `MAX_PLUGIN_BYTES`, and a download that takes longer than
`DOWNLOAD_TIMEOUT` in total is abandoned, so a slow or endless answer cannot hold a worker.
"""

from __future__ import annotations

import asyncio
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import httpx
from starlette.requests import Request

from pipehouse.files.multipart import PART_END, MultipartError, MultipartParser, Part, boundary_of
from pipehouse.service.errors import ServiceError

MAX_PLUGIN_BYTES = 1024 * 1024  # plugin files are source code; the largest known is ~100 KB
DOWNLOAD_TIMEOUT = 30.0  # seconds, for the whole download
FORM_OVERHEAD = 64 * 1024  # boundaries, part headers and small fields around the file
FILE_FIELD = "file"


def raw_url(url: str) -> str:
    """A GitHub page of a file (`github.com/OWNER/REPO/blob/REF/PATH`) as the URL of the file
    itself, which is what people copy from the browser; any other URL as given."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    github = parts.hostname in ("github.com", "www.github.com")
    if github and len(segments) > 5 and segments[3] == "blob":
        path = "/".join(segments[1:3] + segments[4:])
        return f"https://raw.githubusercontent.com/{path}"
    return url


def file_name(url: str) -> str:
    """The last path segment of a plugin URL, checked: http(s) and a `.py` file."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServiceError(400, "the URL must be an http:// or https:// URL of a .py file")
    name = unquote(PurePosixPath(parts.path).name)
    if not name.endswith(".py"):
        raise ServiceError(
            400, "the URL must point at a .py file (a folder cannot be added; add its files)"
        )
    return name


def source_text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ServiceError(400, f"{name} is not UTF-8 text: {exc}") from exc


def _too_large(name: str) -> ServiceError:
    return ServiceError(413, f"{name} is larger than {MAX_PLUGIN_BYTES // 1024} KiB")


async def download(
    url: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> tuple[str, str]:
    """(file name, source) of the plugin file at `url`; errors are `ServiceError`s to answer."""
    url = raw_url(url.strip())
    name = file_name(url)
    try:
        async with asyncio.timeout(DOWNLOAD_TIMEOUT):
            async with (
                httpx.AsyncClient(
                    transport=transport, follow_redirects=True, max_redirects=5
                ) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code != 200:
                    raise ServiceError(
                        502, f"downloading {url} failed: HTTP {response.status_code}"
                    )
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_PLUGIN_BYTES:
                        raise _too_large(name)
    except TimeoutError as exc:
        raise ServiceError(
            504, f"downloading {url} took longer than {DOWNLOAD_TIMEOUT:g} s"
        ) from exc
    except httpx.HTTPError as exc:
        raise ServiceError(502, f"downloading {url} failed: {exc}") from exc
    return name, source_text(bytes(data), name)


async def read_upload(request: Request) -> tuple[str, str]:
    """(file name, source) of the form's `file` part, read into memory up to the limit."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_PLUGIN_BYTES + FORM_OVERHEAD:
        raise _too_large("the upload")
    try:
        parser = MultipartParser(boundary_of(request.headers.get("content-type")))
        name: str | None = None
        data = bytearray()
        reading = False
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > MAX_PLUGIN_BYTES + FORM_OVERHEAD:
                raise _too_large(name or "the upload")
            for event in parser.feed(chunk):
                if isinstance(event, Part):
                    reading = event.name == FILE_FIELD and name is None
                    if reading:
                        name = PurePosixPath((event.filename or "").replace("\\", "/")).name
                elif event is PART_END:
                    reading = False
                elif reading:
                    data += event
                    if len(data) > MAX_PLUGIN_BYTES:
                        raise _too_large(name or "the upload")
        parser.close()
    except MultipartError as exc:
        raise ServiceError(400, str(exc)) from exc
    if name is None:
        raise ServiceError(400, f"the form has no '{FILE_FIELD}' field")
    if not name.endswith(".py"):
        raise ServiceError(400, "only .py files can be uploaded")
    return name, source_text(bytes(data), name)
