"""In the server: answering what plugin code in a worker asks of it (`remote.py` asks).

`generate` runs `pipehouse.host.generate_chat_completion` as the request the asking call
serves (the call's context, so `serving` names that request's runtime and user); `table` runs
one `open_webui` table method with the server's stores, as `compat.bridge` runs it for an
inline plugin. Only methods the alias marks as its own can be named (`remote.find_impl`).
`get_tools` builds toolkits for the request (`compat.toolkits`) and answers with their specs;
`toolkit_tool` builds them again and runs one (nothing is kept between the two); `tool` runs
one of the request's own `__tools__`; `directories` names the server's data and upload
directories (`compat.paths`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from pipehouse import host
from pipehouse.compat import paths, toolkits
from pipehouse.compat import services as compat_services
from pipehouse.compat.errors import ServerRequired
from pipehouse.runtime.events import Host
from pipehouse.runtime.workers import remote, values


async def answer(message: dict[str, Any], request_host: Host | None = None) -> Any:
    """The value (or async iterator of SSE frames) for one `host_call` frame; `request_host`
    receives the events of the request the asking call serves."""
    op = message.get("op")
    if op in ("get_tools", "toolkit_tool"):
        return await _toolkits(op, message, request_host)
    if op == "directories":  # where `UPLOAD_DIR` and `Storage` are, for plugins in a worker
        return {"data_dir": str(paths.data_dir()), "upload_dir": str(paths.upload_dir())}
    if op == "generate":
        user = message.get("user")
        return await host.generate_chat_completion(
            message.get("body") or {},
            user if isinstance(user, dict) else None,
            bypass_filter=bool(message.get("bypass_filter")),
        )
    if op == "table":
        impl = remote.find_impl(str(message.get("impl")))
        args = remote.untag(message.get("args") or [])
        kwargs = remote.untag(message.get("kwargs") or {})
        services = compat_services.current()
        if services is None:
            label = str(message.get("impl")).rpartition(":")[2]
            try:
                return remote.tag(await impl(None, *args, **kwargs))
            except AttributeError:  # it needs the server's stores
                raise ServerRequired(label) from None
        return remote.tag(await impl(services.backend, *args, **kwargs))
    raise ValueError(f"unknown host call {op!r}")


async def _toolkits(op: str, message: dict[str, Any], request_host: Host | None) -> Any:
    events = request_host is not None and bool(message.get("events"))
    event_calls = request_host is not None and bool(message.get("event_calls"))
    host = toolkits.EmitterHost(
        request_host.emit if events and request_host else None,
        request_host.call if event_calls and request_host else None,
    )
    user = message.get("user")
    built = await toolkits.build(
        [str(tool_id) for tool_id in message.get("tool_ids") or []],
        user if isinstance(user, dict) else None,
        message.get("metadata") or {},
        host,
        message.get("messages"),
    )
    if op == "get_tools":
        return {
            name: {key: value for key, value in entry.items() if key != "callable"}
            for name, entry in built.items()
        }
    return await run_tool(message, built)


async def run_tool(message: dict[str, Any], tools: dict[str, Any] | None) -> Any:
    """A `__tools__` callable a pipe in a worker awaited: the request's toolkit runs it here."""
    name = str(message.get("name"))
    entry = (tools or {}).get(name)
    if not isinstance(entry, dict) or not callable(entry.get("callable")):
        raise KeyError(f'Tool "{name}" not found.')
    return values.encode(await entry["callable"](**(message.get("kwargs") or {})))


async def sse_text(frames: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """A streamed completion's SSE frames as text, for the wire."""
    async for frame in frames:
        yield frame.decode() if isinstance(frame, bytes | bytearray) else str(frame)
