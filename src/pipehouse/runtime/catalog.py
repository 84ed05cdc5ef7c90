"""Which plugins a request can reach, and the valves stored for them.

The command line fills a catalog from files; the server fills it from its plugin directories
and database. Either way requests only see `PluginInfo` (plain data) and ids to call through
the executor.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind


@dataclass
class Entry:
    info: PluginInfo
    active: bool = True
    is_global: bool = True  # filters and actions: applied to every model
    created_at: int = field(default_factory=lambda: int(time.time()))

    @property
    def answers_chats(self) -> bool:
        """An active pipe (or Pipelines pipe or manifold): a model a chat can name."""
        info = self.info
        return self.active and (
            info.kind is PluginKind.PIPE
            or (info.kind is PluginKind.PIPELINE and info.pipeline_type != "filter")
        )


class ValvesSource(Protocol):
    """Where a request's admin and user valves come from: the database's (`DatabaseValves`) on
    the server, the command line's (`CommandLineValves`) for `pipehouse run`."""

    async def valves(self, plugin_id: str) -> dict[str, Any] | None: ...

    async def user_valves(self, plugin_id: str, user_id: str) -> dict[str, Any] | None: ...

    def known_user_valves(self, plugin_id: str) -> list[dict[str, Any]]:
        """The user valves of this plugin of every user held in memory (to hide their secrets)."""
        ...


class CommandLineValves:
    """Valves given directly, never stored: what the command line passes with --valve /
    --user-valve (and what tests and benchmarks set)."""

    def __init__(self) -> None:
        self.by_plugin: dict[str, dict[str, Any]] = {}
        self.by_user: dict[tuple[str, str], dict[str, Any]] = {}

    async def valves(self, plugin_id: str) -> dict[str, Any] | None:
        return self.by_plugin.get(plugin_id)

    async def user_valves(self, plugin_id: str, user_id: str) -> dict[str, Any] | None:
        return self.by_user.get((plugin_id, user_id))

    def known_user_valves(self, plugin_id: str) -> list[dict[str, Any]]:
        return [values for (owner, _), values in self.by_user.items() if owner == plugin_id]


class Catalog:
    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self.version = 0  # changes with every change, so derived plans know when to refresh

    def add(self, info: PluginInfo, **flags: Any) -> Entry:
        entry = Entry(info, **flags)
        self._entries[info.id] = entry
        self.version += 1
        return entry

    def remove(self, plugin_id: str) -> None:
        self._entries.pop(plugin_id, None)
        self.version += 1

    def set_flags(self, plugin_id: str, *, active: bool, is_global: bool) -> None:
        entry = self._entries.get(plugin_id)
        if entry is not None:
            entry.active, entry.is_global = active, is_global
            self.version += 1

    def get(self, plugin_id: str) -> Entry | None:
        return self._entries.get(plugin_id)

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries.values()))

    def pipes(self) -> list[Entry]:
        """Entries that answer chats: Functions pipes and non-filter Pipelines files."""
        return [e for e in self if e.answers_chats]

    def filters(self) -> list[Entry]:
        """Active filters: Functions filters and Pipelines files of type "filter"."""
        return [
            e
            for e in self
            if e.active and (e.info.kind is PluginKind.FILTER or e.info.pipeline_type == "filter")
        ]
