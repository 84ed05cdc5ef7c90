"""Inside a worker: what plugin code asks of the server goes back over the wire.

`generate_chat_completion` (pipehouse.host, and the `open_webui` alias over it) and the
`open_webui` tables' methods (`Users.get_user_by_id`, `Files...`, `Chats...`) run in the server,
next to its stores; here they become `host_call` frames tagged with the call that made them, so
the server answers as the request that call serves. Arguments and answers are plain data;
pydantic models cross as their dump and the name of their class under `pipehouse.compat`; an
open file (an `UploadFile`, an upload-like object, `io.BytesIO`) as its bytes and position,
and is an open file again on the other side; bytes cross as bytes (`protocol`).
"""

from __future__ import annotations

import asyncio
import importlib
import io
from collections.abc import AsyncIterator, Callable, Coroutine
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from starlette.datastructures import Headers, UploadFile

from pipehouse.compat.errors import DOCS, CompatError
from pipehouse.runtime.workers import values

if TYPE_CHECKING:
    from pipehouse.runtime.workers.main import Worker

current_call: ContextVar[int | None] = ContextVar("current_call", default=None)
COMPAT = ("open_webui.", "pipehouse.compat.")  # where the alias's modules live
_MODEL = "__pipehouse_model__"
_UPLOAD = "__pipehouse_upload__"
_FILE = "__pipehouse_file__"


class HostCallError(RuntimeError):
    """The server could not do what plugin code asked (the message says why)."""


def _contents(file: Any) -> tuple[bytes | str, int]:
    """All of an open file and where it stood, left standing there (the plugin may go on
    reading it); a file that cannot seek gives what is left of it."""
    if not file.seekable():
        return file.read(), 0
    position = file.tell()
    file.seek(0)
    try:
        return file.read(), position
    finally:
        file.seek(position)


def _reopened(data: bytes | str, position: int) -> io.IOBase:
    file: io.IOBase = io.StringIO(data) if isinstance(data, str) else io.BytesIO(data)
    file.seek(position)
    return file


def _is_upload(value: Any) -> bool:
    """An `UploadFile`, or an object shaped like one (`.file` open, `.filename`)."""
    return isinstance(value, UploadFile) or (
        isinstance(getattr(value, "file", None), io.IOBase) and hasattr(value, "filename")
    )


def tag(value: Any) -> Any:
    """`value` with every pydantic model replaced by a tagged dump, and an open file (an
    upload's too: `upload_file(request, UploadFile(...), user)`) by its contents."""
    if _is_upload(value):
        data, position = _contents(value.file)
        headers = getattr(value, "headers", None)
        content_type = getattr(value, "content_type", None) or (
            headers.get("content-type") if headers is not None else None
        )
        return {
            _UPLOAD: getattr(value, "filename", None) or "",
            "content_type": content_type or "",
            "data": data,
            "position": position,
        }
    if isinstance(value, io.IOBase) and value.readable():
        data, position = _contents(value)
        return {_FILE: data, "position": position, "name": getattr(value, "name", None)}
    if isinstance(value, BaseModel):
        cls = type(value)
        return {_MODEL: f"{cls.__module__}:{cls.__qualname__}", "data": value.model_dump()}
    if isinstance(value, list | tuple):
        return [tag(v) for v in value]
    if isinstance(value, dict):
        return {k: tag(v) for k, v in value.items()}
    return value


def untag(value: Any) -> Any:
    """The reverse of `tag`; only classes under `pipehouse.compat` are rebuilt."""
    if isinstance(value, list):
        return [untag(v) for v in value]
    if not isinstance(value, dict):
        return value
    if _UPLOAD in value:
        content_type = value.get("content_type")
        headers = Headers({"content-type": content_type} if content_type else {})
        data = value.get("data") or b""
        return UploadFile(
            _reopened(data, value.get("position") or 0),  # type: ignore[arg-type]
            size=len(data),
            filename=value[_UPLOAD],
            headers=headers,
        )
    if _FILE in value:
        file = _reopened(value[_FILE], value.get("position") or 0)
        if isinstance(value.get("name"), str):
            file.name = value["name"]  # type: ignore[attr-defined]
        return file
    name = value.get(_MODEL)
    if isinstance(name, str) and name.startswith(COMPAT) and len(value) == 2:
        return _resolve(name).model_validate(value["data"])
    return {k: untag(v) for k, v in value.items()}


def impl_key(impl: Callable[..., Any]) -> str:
    return f"{impl.__module__}:{impl.__qualname__}"


def _resolve(key: str) -> Any:
    """`module:qualname` of pipehouse's compat layer (never a module of a plugin's own)."""
    from pipehouse.compat import finder

    finder.install()  # a server running every plugin isolated has not needed the alias yet
    module_name, _, qualname = key.partition(":")
    if not module_name.startswith(COMPAT):
        raise CompatError(f"{key} is not part of the open_webui alias")
    module = importlib.import_module(module_name)
    file = Path(getattr(module, "__file__", None) or "/").resolve()
    if not file.is_relative_to(finder._HERE):  # a real Open WebUI's module, or a plugin's
        raise CompatError(f"{key} is not part of the open_webui alias")
    owner: Any = module
    for part in qualname.split("."):
        owner = getattr(owner, part)
    return owner


def find_impl(key: str) -> Callable[..., Coroutine[Any, Any, Any]]:
    """The table method a worker names; only methods the compat layer marks as `dual`."""
    method = _resolve(key)
    if not getattr(method, "_pipehouse_dual", False):
        raise CompatError(f"{key} is not an open_webui table method")
    return method.__wrapped__


_worker: Worker | None = None
_loop: asyncio.AbstractEventLoop | None = None


def install(worker: Worker) -> None:
    """Route host calls made in this process through `worker` (call on the worker's loop)."""
    global _worker, _loop
    from pipehouse import host
    from pipehouse.compat import services

    _worker, _loop = worker, asyncio.get_running_loop()
    host.forward = generate_chat_completion
    services.remote = table_call
    services.remote_tools = get_tools
    services.remote_directories = server_directories


async def _ask(message: dict[str, Any]) -> Any:
    assert _worker is not None
    return await _worker.ask({**message, "k": "host_call", "id": current_call.get()})


async def _on_worker_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run `coroutine` on the worker's loop (which owns the socket), from any loop."""
    assert _loop is not None
    if asyncio.get_running_loop() is _loop:
        return await coroutine
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, _loop))


async def _frames(stream: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    async for frame in stream:
        yield frame.encode() if isinstance(frame, str) else frame


async def _from_worker_loop(stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    assert _loop is not None
    while True:
        step = asyncio.run_coroutine_threadsafe(anext(stream, None), _loop)
        frame = await asyncio.wrap_future(step)
        if frame is None:
            return
        yield frame


async def generate_chat_completion(
    body: dict[str, Any], user: dict[str, Any] | None, bypass_filter: bool
) -> dict[str, Any] | AsyncIterator[bytes]:
    """`pipehouse.host.generate_chat_completion` from a worker: asked of the server."""
    message = {"op": "generate", "body": body, "user": user, "bypass_filter": bypass_filter}
    answer = await _on_worker_loop(_ask(message))
    if isinstance(answer, dict):
        return answer
    stream = _frames(answer)
    if asyncio.get_running_loop() is not _loop:
        return _from_worker_loop(stream)
    return stream


def table_call(
    label: str,
    impl: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wants_coroutine: bool,
    *,
    sync_on_loop: bool = True,
) -> Any:
    """An `open_webui` table method, called in a worker: the server runs it (`bridge.run`)."""
    from pipehouse.compat.bridge import awaitable

    message = {"op": "table", "impl": impl_key(impl), "args": tag(args), "kwargs": tag(kwargs)}

    async def ask() -> Any:
        return untag(await _on_worker_loop(_ask(message)))

    if wants_coroutine:
        return ask()
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is _loop:  # the older sync style inside `async def`: the loop waits, as inline
        if not sync_on_loop:  # it changes what the server keeps, which may ask this worker
            raise CompatError(
                f"{label}() changes state the server keeps in memory, so in async code it "
                f"must be awaited: `await {label}(...)` (Open WebUI 0.12.4 style); see {DOCS}"
            )
        assert _worker is not None
        blocking = {**message, "k": "host_call", "id": current_call.get()}
        return awaitable(untag(_worker.ask_blocking(blocking)))
    assert _loop is not None
    future = asyncio.run_coroutine_threadsafe(_ask(message), _loop)
    return awaitable(untag(future.result()))


def server_directories() -> dict[str, str]:
    """The server's data and upload directories (`compat.paths`), asked over the sync channel:
    `UPLOAD_DIR` is read at import, from the worker's loop or a thread, and needs its value."""
    assert _worker is not None
    message = {"k": "host_call", "id": current_call.get(), "op": "directories"}
    answer = _worker.ask_blocking(message)
    return {k: str(v) for k, v in answer.items() if isinstance(v, str)}


async def get_tools(
    tool_ids: list[str],
    user: dict[str, Any] | None,
    metadata: dict[str, Any],
    messages: list[dict[str, Any]] | None,
    *,
    emits: bool,
    asks: bool,
) -> dict[str, dict[str, Any]]:
    """`open_webui.utils.tools.get_tools` from a worker: the server builds the toolkits for the
    request this call serves and sends their specs; each callable here asks it to run its tool
    (built again there, so nothing is kept for it). The toolkits' events go to the request's
    client when the plugin passed an emitter (`emits`) or an event caller (`asks`)."""
    question = {
        "op": "get_tools",
        "tool_ids": tool_ids,
        "user": user,
        "metadata": {k: v for k, v in metadata.items() if k != "tools"},  # callables: not data
        "messages": messages,
        "events": emits,
        "event_calls": asks,
    }
    offered = await _on_worker_loop(_ask(question))
    return {
        name: {**entry, "callable": _toolkit_tool(question, name, entry.get("spec") or {})}
        for name, entry in offered.items()
    }


def _toolkit_tool(question: dict[str, Any], name: str, spec: dict[str, Any]) -> Any:
    async def call(**arguments: Any) -> Any:
        message = {**question, "op": "toolkit_tool", "name": name, "kwargs": arguments}
        return values.decode(await _on_worker_loop(_ask(message)))

    call.__name__ = call.__qualname__ = name
    call.__doc__ = spec.get("description")
    return call
