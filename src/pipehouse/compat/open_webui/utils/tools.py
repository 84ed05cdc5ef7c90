"""`open_webui.utils.tools.get_tools`: the `__tools__` dict for a list of toolkit ids, built by
pipehouse's runtime as it builds a request's own `__tools__` (the callables run the toolkit
through the executor, with its stored valves and the user's user valves)."""

from __future__ import annotations

import inspect
import logging
from typing import Any

from pipehouse.compat.completions import as_user_dict
from pipehouse.compat.errors import CompatError, missing_names
from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind
from pipehouse.runtime.events import NO_LISTENER
from pipehouse.runtime.executor import CallContext
from pipehouse.runtime.serving import serving
from pipehouse.runtime.tools import ToolSet

__all__ = ["get_builtin_tools", "get_terminal_tools", "get_tools"]
__getattr__ = missing_names(__name__)

log = logging.getLogger(__name__)


class _EmitterHost:
    """Sends the toolkits' events to the emitter the caller passed (if any)."""

    def __init__(self, extra: dict[str, Any]) -> None:
        self.emitter = extra.get("__event_emitter__")
        self.caller = extra.get("__event_call__")

    async def emit(self, event: dict[str, Any]) -> None:
        if self.emitter is not None:
            result = self.emitter(event)
            if inspect.isawaitable(result):
                await result

    async def call(self, event: dict[str, Any]) -> Any:
        if self.caller is None:
            return dict(NO_LISTENER)
        result = self.caller(event)
        return await result if inspect.isawaitable(result) else result


async def get_tools(
    request: Any, tool_ids: list[str], user: Any, extra_params: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """`{name: {"tool_id", "callable", "spec", "metadata"}}`; ids that name no toolkit (and
    `server:` tool servers, which pipehouse does not have) are skipped, as Open WebUI skips
    the ones it cannot load."""
    current = serving.get()
    if current is None:
        raise CompatError("get_tools() was called outside a request served by pipehouse")
    runtime, request_user = current
    extra = dict(extra_params or {})
    caller = extra.get("__user__") or as_user_dict(user) or request_user
    metadata = extra.get("__metadata__") or {}
    host = _EmitterHost(extra)
    known = []
    for tool_id in tool_ids or []:
        entry = runtime.catalog.get(tool_id)
        if entry is not None and entry.info.kind is PluginKind.TOOLS:
            known.append(tool_id)
        else:
            log.warning("get_tools: no toolkit '%s'; skipped", tool_id)

    async def context_for(info: PluginInfo) -> CallContext:
        return await runtime.call_context(info, dict(caller), metadata, host)

    tools = await ToolSet.build(
        known, runtime.catalog, runtime.executor, context_for, messages=extra.get("__messages__")
    )
    return tools.as_dunder_tools()


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
