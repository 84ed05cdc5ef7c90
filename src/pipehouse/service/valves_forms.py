"""Valves forms through the API: shown with secrets masked, validated by the plugin's own
classes, stored, and announced to other replicas; a posted mask keeps the stored secret."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.kinds import PluginTable
from pipehouse.plugin.valves import MASK, mask, shown
from pipehouse.service.errors import ServiceError

if TYPE_CHECKING:
    from pipehouse.service.plugins import PluginService


def keep_masked(
    data: Mapping[str, Any], secret: Iterable[str], stored: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A posted valves form where a secret still shows the mask (or a URL its masked password)
    means "keep the stored value": a form that round-trips what it read must not overwrite the
    secret with asterisks. With nothing stored, the field keeps the plugin's own value."""
    hidden = set(secret)
    kept = {}
    for name, value in data.items():
        has_stored = stored is not None and name in stored
        if stored is not None and has_stored and value == shown(stored[name], name in hidden):
            kept[name] = stored[name]
        elif (value == MASK and name in hidden) or (_masked_url(value) and not has_stored):
            continue  # nothing stored: the plugin's own value stays
        else:
            kept[name] = value
    return kept


def _masked_url(value: Any) -> bool:
    return isinstance(value, str) and f":{MASK}@" in value


class ValvesForms:
    """A plugin's Valves and each user's UserValves, as the API reads and writes them."""

    def __init__(self, plugins: PluginService) -> None:
        self.plugins = plugins

    def masked(
        self, plugin_id: str, values: Mapping[str, Any] | None, *, user: bool = False
    ) -> dict[str, Any]:
        """Valves as they may be shown: secrets masked. When the plugin is not loaded its
        secret fields are unknown, so every value is masked."""
        values = dict(values or {})
        entry = self.plugins.catalog.get(plugin_id)
        if entry is None:
            return mask(values, values)
        return mask(values, entry.info.secret_user_valves if user else entry.info.secret_valves)

    async def user_valves(self, kind: PluginTable, plugin_id: str, user_id: str) -> dict[str, Any]:
        await self.plugins.get(kind, plugin_id)
        return dict(await self.plugins.valves.user_valves(plugin_id, user_id) or {})

    async def valves_schema(
        self, kind: PluginTable, plugin_id: str, *, user: bool, for_user: dict[str, Any]
    ) -> dict[str, Any] | None:
        """JSON Schema of Valves (or UserValves), options resolved for the caller; None when the
        plugin has no such class."""
        plugins = self.plugins
        await plugins.get(kind, plugin_id)
        plugins.status.loaded_info(plugins.catalog, plugin_id)
        return await plugins.executor.valves_schema(plugin_id, user=user, for_user=for_user)

    async def set_valves(
        self, kind: PluginTable, plugin_id: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Validate and store a valves form; only the fields set are stored."""
        plugins = self.plugins
        row = await plugins.get(kind, plugin_id)
        info = plugins.status.loaded_info(plugins.catalog, plugin_id)
        if not info.has_valves:
            raise ServiceError(404, f"'{plugin_id}' has no Valves class")
        data = keep_masked(data, info.secret_valves, row.valves)
        try:
            stored = await plugins.executor.validate_valves(plugin_id, data)
        except PluginError as error:
            raise ServiceError(400, error.to_dict()) from error
        await plugins.rows(kind).update(plugin_id, valves=stored)
        plugins.valves.remember(plugin_id, kind, stored)
        plugins.runtime.forget_models(plugin_id)
        await plugins.announce("plugin", plugin_id)
        return stored

    async def set_user_valves(
        self, kind: PluginTable, plugin_id: str, user_id: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Validate and store one user's UserValves form for one plugin."""
        plugins = self.plugins
        await plugins.get(kind, plugin_id)
        info = plugins.status.loaded_info(plugins.catalog, plugin_id)
        if not info.has_user_valves:
            raise ServiceError(404, f"'{plugin_id}' has no UserValves class")
        current = await plugins.valves.user_valves(plugin_id, user_id)
        data = keep_masked(data, info.secret_user_valves, current)
        try:
            stored = await plugins.executor.validate_valves(plugin_id, data, user=True)
        except PluginError as error:
            raise ServiceError(400, error.to_dict()) from error
        await plugins.valves.set_user_valves(plugin_id, user_id, stored)
        await plugins.announce("user", user_id)
        return stored
