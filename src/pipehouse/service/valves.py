"""The database's valves, served from memory: a request reads valves for its pipe and every
filter, so they are loaded once and kept in step with every write instead of queried per
request."""

from __future__ import annotations

import copy
from typing import Any

from pipehouse.plugin.kinds import PluginTable
from pipehouse.store.accounts import Accounts


class DatabaseValves:
    """Admin valves by plugin id, and user valves from each user's `settings` (as Open WebUI
    keeps them: settings[functions|tools][valves][plugin_id])."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self._valves: dict[str, dict[str, Any] | None] = {}
        self._kind: dict[str, PluginTable] = {}
        self._settings: dict[str, dict[str, Any]] = {}
        self.version = 0  # admin valves changed: filter order and Pipelines targets may have

    def remember(self, plugin_id: str, kind: PluginTable, valves: dict[str, Any] | None) -> None:
        self._kind[plugin_id] = kind
        self._valves[plugin_id] = valves
        self.version += 1

    def forget(self, plugin_id: str) -> None:
        self._valves.pop(plugin_id, None)
        self._kind.pop(plugin_id, None)
        self.version += 1

    def forget_user(self, user_id: str) -> None:
        """The user's settings changed elsewhere (another replica): read them again when next
        needed."""
        self._settings.pop(user_id, None)

    def _branch(self, plugin_id: str) -> str:
        return self._kind.get(plugin_id, PluginTable.FUNCTION).settings_branch

    async def valves(self, plugin_id: str) -> dict[str, Any] | None:
        return self._valves.get(plugin_id)

    def stored(self, plugin_id: str) -> dict[str, Any]:
        """The stored admin valves right now ({} when none), without awaiting."""
        return self._valves.get(plugin_id) or {}

    async def _user_settings(self, user_id: str) -> dict[str, Any]:
        settings = self._settings.get(user_id)
        if settings is None:
            user = await self.accounts.get_user(user_id) if user_id else None
            settings = dict(user.settings or {}) if user else {}
            self._settings[user_id] = settings
        return settings

    async def user_valves(self, plugin_id: str, user_id: str) -> dict[str, Any] | None:
        settings = await self._user_settings(user_id)
        branch = settings.get(self._branch(plugin_id)) or {}
        return (branch.get("valves") or {}).get(plugin_id)

    def known_user_valves(self, plugin_id: str) -> list[dict[str, Any]]:
        """This plugin's user valves of every user whose settings are in memory: every user
        who made a request or saved settings since the start."""
        branch = self._branch(plugin_id)
        found = []
        for settings in self._settings.values():
            values = ((settings.get(branch) or {}).get("valves") or {}).get(plugin_id)
            if isinstance(values, dict):
                found.append(values)
        return found

    async def set_user_valves(self, plugin_id: str, user_id: str, values: dict[str, Any]) -> None:
        settings = copy.deepcopy(await self._user_settings(user_id))
        branch = settings.setdefault(self._branch(plugin_id), {})
        branch.setdefault("valves", {})[plugin_id] = values
        await self.accounts.update_settings(user_id, settings)
        self._settings[user_id] = settings
