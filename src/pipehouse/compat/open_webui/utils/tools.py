"""`open_webui.utils.tools.get_tools`: the `__tools__` dict for a list of toolkit ids, built by
pipehouse's runtime as it builds a request's own `__tools__` (`compat.toolkits`). In a worker
process the server builds it: the specs come back, and each callable runs its tool there."""

from __future__ import annotations

from typing import Any

from pipehouse.compat import services as compat_services
from pipehouse.compat import toolkits
from pipehouse.compat.completions import as_user_dict
from pipehouse.compat.errors import missing_names
from pipehouse.runtime.serving import serving

__all__ = ["get_builtin_tools", "get_terminal_tools", "get_tools"]
__getattr__ = missing_names(__name__)


async def get_tools(
    request: Any, tool_ids: list[str], user: Any, extra_params: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """`{name: {"tool_id", "callable", "spec", "metadata"}}`; ids that name no toolkit (and
    `server:` tool servers, which pipehouse does not have) are skipped, as Open WebUI skips
    the ones it cannot load."""
    extra = dict(extra_params or {})
    caller = extra.get("__user__") or as_user_dict(user)
    metadata = extra.get("__metadata__") or {}
    emitter, asker = extra.get("__event_emitter__"), extra.get("__event_call__")
    ids = [str(tool_id) for tool_id in tool_ids or []]
    messages = extra.get("__messages__")
    if serving.get() is None and compat_services.remote_tools is not None:  # in a worker
        return await compat_services.remote_tools(
            ids, caller, metadata, messages, emits=emitter is not None, asks=asker is not None
        )
    host = toolkits.EmitterHost(emitter, asker)
    return await toolkits.build(ids, caller, metadata, host, messages)


async def get_builtin_tools(
    request: Any,
    extra_params: dict[str, Any] | None = None,
    features: dict[str, Any] | None = None,
    model: dict[str, Any] | None = None,
    is_note_chat: bool = False,
    **_: Any,
) -> dict[str, dict[str, Any]]:
    """Open WebUI's built-in tools (web search, memories, notes, images ...) are features of
    Open WebUI's server, none of which pipehouse has: always `{}`, as Open WebUI answers when
    they are all switched off."""
    return {}


async def get_terminal_tools(*args: Any, **kwargs: Any) -> dict[str, dict[str, Any]]:
    """Open WebUI's terminal-server tools: pipehouse connects to no terminal server, so `{}`."""
    return {}
