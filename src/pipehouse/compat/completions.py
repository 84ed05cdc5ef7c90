"""Model calls from plugin code, as Open WebUI's `generate_chat_completion` makes them, over
`pipehouse.host.generate_chat_completion`.

A completion comes back as a dict; a stream (`"stream": true`) as a `StreamingResponse` whose
`body_iterator` yields one SSE event (`b"data: {...}\\n\\n"`) per item, which is how plugins read
Open WebUI's (`async for chunk in response.body_iterator`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

from pipehouse import host
from pipehouse.compat import services as compat_services


def as_user_dict(user: Any) -> dict[str, Any] | None:
    """A `UserModel`, a `__user__` dict or any object with `id`/`email`/`name`/`role`, as the
    user dict pipehouse runs a request for; None means the user of the request being served."""
    if user is None or isinstance(user, dict):
        return user
    if hasattr(user, "model_dump"):
        return user.model_dump()
    fields = ("id", "email", "name", "role")
    return {name: getattr(user, name) for name in fields if hasattr(user, name)}


async def one_event_per_chunk(frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """pipehouse writes what has accumulated in one go; plugins parse one event per chunk."""
    pending = b""
    async for chunk in frames:
        pending += chunk
        while (end := pending.find(b"\n\n")) >= 0:
            yield pending[: end + 2]
            pending = pending[end + 2 :]
    if pending:
        yield pending


async def _from_server_loop(
    frames: AsyncIterator[bytes], loop: asyncio.AbstractEventLoop
) -> AsyncIterator[bytes]:
    """A stream the server's loop produces, read from another loop."""
    while True:
        step = asyncio.run_coroutine_threadsafe(anext(frames, None), loop)
        chunk = await asyncio.wrap_future(step)
        if chunk is None:
            return
        yield chunk


async def generate_chat_completion(
    request: Any,
    form_data: dict[str, Any],
    user: Any = None,
    bypass_filter: bool = False,
    bypass_system_prompt: bool = False,
    **_: Any,
) -> dict[str, Any] | StreamingResponse:
    """Ask any model the server offers; `request` is accepted and not needed. Called from a
    loop of the plugin's own (`asyncio.run` on a thread), it still runs on the server's."""
    call = host.generate_chat_completion(form_data, as_user_dict(user), bypass_filter=bypass_filter)
    services = compat_services.current()
    server_loop = services.loop if services is not None else None
    # the server's loop when the plugin called from a loop of its own, else None
    foreign = server_loop if server_loop is not asyncio.get_running_loop() else None
    if foreign is not None:
        result = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call, foreign))
    else:
        result = await call
    if isinstance(result, dict):
        return result
    if foreign is not None:
        result = _from_server_loop(result, foreign)
    return StreamingResponse(one_event_per_chunk(result), media_type="text/event-stream")


async def generate_chat_completions(*args: Any, **kwargs: Any) -> dict[str, Any] | Any:
    """`open_webui.main.generate_chat_completions`: `(request, form_data, user, ...)` since
    Open WebUI 0.5, `(form_data, user, bypass_filter=False)` before it; both are accepted."""
    if args and isinstance(args[0], dict):
        args = (None, *args)
    elif "request" not in kwargs and not args:
        kwargs["request"] = None
    return await generate_chat_completion(*args, **kwargs)
