"""`POST /api/chat/completed`, Open WebUI's legacy outlet runner (Open WebUI 0.12.4 main.py): a
client that
has a finished exchange sends it, and gets back what the model's outlet filters make of it.

The chain is the one a completion ends with (`FilterPlan.outlet`, over the filters
`FilterPlanner.plan` picks), run by the same code; only here a failing outlet is an error,
since running the outlets is all the caller asked for.
"""

from __future__ import annotations

from typing import Any

from pipehouse.runtime.chat import ChatRuntime
from pipehouse.runtime.errors import RequestError
from pipehouse.runtime.events import Host
from pipehouse.runtime.turn import ChatTurn


async def run_outlets(
    runtime: ChatRuntime,
    body: dict[str, Any],
    user: dict[str, Any],
    *,
    host: Host,
    request: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body Open WebUI's UI sends (`model`, `messages`, `chat_id`, `session_id`, `id` = the
    assistant message, `filter_ids`), through the outlet filters of `model`; returns the body
    they leave. The outlets see the body as sent (less `model_item`), and `__metadata__` with
    the same ids."""
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise RequestError("'messages' must be a list of message objects")
    filter_ids = body.get("filter_ids") or []
    if not isinstance(filter_ids, list):
        raise RequestError("'filter_ids' must be a list of filter ids")
    source, model = await runtime.resolve(body.get("model"))
    turn = ChatTurn(runtime, source, model, user, host, request, stream=False)
    turn.metadata = {
        "user_id": user.get("id"),
        "chat_id": body.get("chat_id"),
        "message_id": body.get("id"),
        "session_id": body.get("session_id"),
        "filter_ids": list(filter_ids),
        "model": model,
    }
    turn.plan = await runtime.filters_for(model["id"], turn.metadata["filter_ids"], turn.pipe)
    body = {k: v for k, v in body.items() if k != "model_item"}
    return await turn.run_outlet_chain(body, strict=True)
