"""Pipehouse's function and tool rows for the `Functions` and `Tools` shims: admin valves from
the row (and saved through the plugin service), user valves from the user's settings (where
Open WebUI keeps them too)."""

from __future__ import annotations

from typing import Any

from pipehouse.compat.errors import CompatError
from pipehouse.compat.services import Backend
from pipehouse.plugin.kinds import PluginTable


def rows(backend: Backend, kind: PluginTable) -> Any:
    """The store's rows of one table."""
    store = backend.plugin_rows
    if store is None:
        raise CompatError("this pipehouse server has no plugin store")
    return store.tools if kind is PluginTable.TOOL else store.functions


async def user_valves(backend: Backend, kind: PluginTable, plugin_id: str, user_id: str) -> dict:
    user = await backend.accounts.get_user(user_id)
    settings = (user.settings if user is not None else None) or {}
    branch = settings.get(kind.settings_branch) or {}
    return dict((branch.get("valves") or {}).get(plugin_id) or {})


def plugin_service(backend: Backend, label: str) -> Any:
    if backend.plugins is None:
        raise CompatError(f"{label}() must run on the server's event loop (await it)")
    return backend.plugins


async def update_valves(
    backend: Backend, kind: PluginTable, plugin_id: str, valves: dict[str, Any], label: str
) -> Any:
    """Validate and store admin valves as a save through the API does (a value that does not
    validate raises); the updated row, or None when there is no such plugin."""
    service = plugin_service(backend, label)
    if await rows(backend, kind).get(plugin_id) is None:
        return None
    await service.valves_forms.set_valves(kind, plugin_id, valves)
    return await rows(backend, kind).get(plugin_id)
