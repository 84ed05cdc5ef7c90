"""Modes: each plugin runs `isolated` (in a worker process) or `inline` (in the server's).

`RoutingExecutor` is the `Executor` the server holds: it sends every call to the executor of
the plugin's mode. The global mode comes from `PIPEHOUSE_ISOLATION` or `serve --isolation`; an
admin sets one plugin's mode through the API (kept in its row), never the plugin itself: a
frontmatter line asking for `inline` would let any plugin file leave its worker
(docs/isolation.md, "Modes").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.loader import LoadedPlugin
from pipehouse.runtime.action_result import ActionResult
from pipehouse.runtime.executor import (
    CallContext,
    Executor,
    InletsThenPipe,
    PipeResult,
    PluginSource,
)
from pipehouse.runtime.inprocess import InProcessExecutor

Mode = Literal["isolated", "inline"]
MODES: tuple[Mode, ...] = ("isolated", "inline")


def parse_mode(value: str | None, default: Mode) -> Mode:
    """A mode from a flag or a variable; anything else is a clear error."""
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered not in MODES:
        raise ValueError(f"isolation must be one of {', '.join(MODES)}, not {value!r}")
    return lowered  # one of MODES: `in` narrowed it


class RoutingExecutor:
    """Inline or isolated, per plugin (module doc)."""

    def __init__(
        self,
        inline: InProcessExecutor,
        isolated: Executor,
        *,
        default: Mode = "isolated",
        modes: Mapping[str, Mode] | None = None,
    ) -> None:
        self.inline = inline
        self.isolated = isolated
        self.default = default
        self.modes: dict[str, Mode] = dict(modes or {})  # set by an admin, per plugin
        self._where: dict[str, Executor] = {}  # where each loaded plugin is
        self._sources: dict[str, PluginSource] = {}

    @property
    def plugin_files(self) -> dict[str, str]:
        """Inline plugins' files (the server's loop-lag monitor names them)."""
        return self.inline.plugin_files

    def mode_of(self, plugin_id: str) -> Mode:
        return self.modes.get(plugin_id, self.default)

    def _by_mode(self, plugin_id: str) -> Executor:
        return self.inline if self.mode_of(plugin_id) == "inline" else self.isolated

    def _of(self, plugin_id: str) -> Executor:
        return self._where.get(plugin_id) or self._by_mode(plugin_id)

    def loaded(self, plugin_id: str) -> LoadedPlugin:
        """The live instance of an inline plugin (CLI tools); isolated ones have none here."""
        return self.inline.loaded(plugin_id)

    async def set_mode(self, plugin_id: str, mode: Mode | None) -> Mode:
        """Change one plugin's mode (None: back to the default); a loaded plugin moves now."""
        if mode is None:
            self.modes.pop(plugin_id, None)
        else:
            self.modes[plugin_id] = mode
        source = self._sources.get(plugin_id)
        if source is not None and self._where.get(plugin_id) is not self._by_mode(plugin_id):
            await self.load(source)
        return self.mode_of(plugin_id)

    # -- the Executor interface ---------------------------------------------------------------
    async def load(self, source: PluginSource) -> PluginInfo:
        target = self._by_mode(source.id)
        info = await target.load(source)
        previous = self._where.get(source.id)
        self._where[source.id] = target
        self._sources[source.id] = source
        if previous is not None and previous is not target:
            await previous.unload(source.id)
        return info

    async def unload(self, plugin_id: str) -> None:
        self._sources.pop(plugin_id, None)
        where = self._where.pop(plugin_id, None)
        if where is not None:
            await where.unload(plugin_id)

    async def close(self) -> None:
        await self.isolated.close()
        await self.inline.close()

    async def models(self, plugin_id: str, call: CallContext) -> list[dict[str, Any]]:
        return await self._of(plugin_id).models(plugin_id, call)

    async def call_pipe(
        self, plugin_id: str, body: dict[str, Any], call: CallContext
    ) -> PipeResult:
        return await self._of(plugin_id).call_pipe(plugin_id, body, call)

    async def call_filter(
        self, plugin_id: str, hook: str, body: dict[str, Any], call: CallContext
    ) -> Any:
        return await self._of(plugin_id).call_filter(plugin_id, hook, body, call)

    def filter_stream(
        self, plugin_ids: list[str], items: AsyncIterator[dict[str, Any]], calls: list[CallContext]
    ) -> AsyncIterator[dict[str, Any]]:
        """Runs of filters with the same executor filter the chunks in turn."""
        stream = items
        start = 0
        for end in range(1, len(plugin_ids) + 1):
            if end == len(plugin_ids) or self._of(plugin_ids[end]) is not self._of(
                plugin_ids[start]
            ):
                executor = self._of(plugin_ids[start])
                stream = executor.filter_stream(plugin_ids[start:end], stream, calls[start:end])
                start = end
        return stream

    def fusable(self, plugin_ids: list[str]) -> bool:
        isolated = self.isolated
        return all(self._of(p) is isolated for p in plugin_ids) and isolated.fusable(plugin_ids)

    async def call_inlets_then_pipe(
        self,
        inlets: list[tuple[str, CallContext]],
        body: dict[str, Any],
        pipe: tuple[str, CallContext],
        *,
        handles_files: bool,
    ) -> InletsThenPipe | None:
        return await self.isolated.call_inlets_then_pipe(
            inlets, body, pipe, handles_files=handles_files
        )

    async def call_tool(
        self, plugin_id: str, name: str, arguments: dict[str, Any], call: CallContext
    ) -> Any:
        return await self._of(plugin_id).call_tool(plugin_id, name, arguments, call)

    async def call_action(
        self,
        plugin_id: str,
        body: dict[str, Any],
        call: CallContext,
        *,
        sub_action_id: str | None = None,
    ) -> ActionResult:
        return await self._of(plugin_id).call_action(
            plugin_id, body, call, sub_action_id=sub_action_id
        )

    async def validate_valves(
        self, plugin_id: str, values: Mapping[str, Any], *, user: bool = False
    ) -> dict[str, Any]:
        return await self._of(plugin_id).validate_valves(plugin_id, values, user=user)

    async def parse_valves(
        self, plugin_id: str, assignments: list[str], *, user: bool = False
    ) -> dict[str, Any]:
        return await self._of(plugin_id).parse_valves(plugin_id, assignments, user=user)

    async def valves_schema(
        self, plugin_id: str, *, user: bool = False, for_user: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        return await self._of(plugin_id).valves_schema(plugin_id, user=user, for_user=for_user)

    async def secret_values(self, plugin_id: str) -> set[str]:
        return await self._of(plugin_id).secret_values(plugin_id)
