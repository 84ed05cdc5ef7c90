"""Toolkits built for plugin code (`open_webui.utils.tools.get_tools`), as pipehouse's runtime
builds a request's own `__tools__`: the callables run the toolkit through the executor, with its
stored valves and the user's user valves.

A plugin in the server's process gets them directly; one in a worker asks the server
(`runtime/workers/remote.py`), which builds them here and answers with their specs, each of the
worker's callables asking the server again to run its tool.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from pipehouse.compat.errors import CompatError
from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind
from pipehouse.runtime.events import NO_LISTENER
from pipehouse.runtime.executor import CallContext
from pipehouse.runtime.serving import serving
from pipehouse.runtime.tools import ToolSet

log = logging.getLogger(__name__)


class EmitterHost:
    """Sends the toolkits' events to the emitter the caller passed (none: they are dropped,
    and event calls get Open WebUI's no-listener answer)."""

    def __init__(
        self, emitter: Callable[..., Any] | None, caller: Callable[..., Any] | None
    ) -> None:
        self.emitter = emitter
        self.caller = caller

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


async def build(
    tool_ids: list[str],
    caller: dict[str, Any] | None,
    metadata: dict[str, Any],
    host: EmitterHost,
    messages: list[dict[str, Any]] | None,
) -> dict[str, dict[str, Any]]:
    """`{name: {"tool_id", "callable", "spec", "metadata"}}` for the request being served, run
    as `caller` (None: the request's user); ids that name no toolkit (and `server:` tool
    servers, which pipehouse does not have) are skipped, as Open WebUI skips the ones it cannot
    load."""
    current = serving.get()
    if current is None:
        raise CompatError("get_tools() was called outside a request served by pipehouse")
    runtime, request_user = current
    user = caller or request_user
    known = []
    for tool_id in tool_ids or []:
        entry = runtime.catalog.get(tool_id)
        if entry is not None and entry.info.kind is PluginKind.TOOLS:
            known.append(tool_id)
        else:
            log.warning("get_tools: no toolkit '%s'; skipped", tool_id)

    async def context_for(info: PluginInfo) -> CallContext:
        return await runtime.call_context(info, dict(user), metadata, host)

    tools = await ToolSet.build(
        known, runtime.catalog, runtime.executor, context_for, messages=messages
    )
    return tools.as_dunder_tools()
