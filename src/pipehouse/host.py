"""What plugin code can ask of the pipehouse it runs in.

    from pipehouse.host import generate_chat_completion

    answer = await generate_chat_completion(
        {"model": "llama3.1", "messages": [{"role": "user", "content": "Hi"}]}, __user__
    )

The call reaches any model the server offers (a pipe, a manifold's sub-model, an upstream
model), with the filters applied unless `bypass_filter=True`, as Open WebUI's
`generate_chat_completion` does; the `open_webui` compatibility layer calls this.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from pipehouse.runtime.events import Host
from pipehouse.runtime.serving import serving


class NoHostError(RuntimeError):
    """Plugin code asked for a host call outside a request pipehouse is serving."""


# Set in a worker process (runtime/workers/remote.py): the call is asked of the server.
forward: Callable[..., Awaitable[dict[str, Any] | AsyncIterator[bytes]]] | None = None


async def generate_chat_completion(
    body: dict[str, Any],
    user: Any = None,
    *,
    bypass_filter: bool = False,
    host: Host | None = None,
) -> dict[str, Any] | AsyncIterator[bytes]:
    """A completion dict, or (for `"stream": true`) an async iterator of SSE frames.

    `user` is the `__user__` dict a plugin was given (or any object with `model_dump()`);
    without one the call is made as the user of the request being served."""
    current = serving.get()
    if current is None and forward is not None:
        if user is not None and not isinstance(user, dict) and hasattr(user, "model_dump"):
            user = user.model_dump()
        return await forward(body, user, bypass_filter)
    if current is None:
        raise NoHostError(
            "generate_chat_completion() was called outside a request served by pipehouse"
        )
    runtime, request_user = current
    if user is None:
        user = request_user
    elif not isinstance(user, dict) and hasattr(user, "model_dump"):
        user = user.model_dump()
    return await runtime.generate(body, dict(user), host=host, bypass_filter=bypass_filter)
