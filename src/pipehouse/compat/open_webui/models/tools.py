"""`open_webui.models.tools`: pipehouse's toolkits as Open WebUI's `ToolModel`s. Valves writes
go through the plugin service, which validates them and applies them to the live toolkit."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from pipehouse.compat import plugin_rows
from pipehouse.compat.bridge import AwaitableModel, Table, dual
from pipehouse.compat.errors import missing_names
from pipehouse.compat.services import Backend
from pipehouse.plugin.kinds import PluginTable
from pipehouse.store.models import Tool

__all__ = ["ToolMeta", "ToolModel", "Tools"]
__getattr__ = missing_names(__name__)


class ToolMeta(AwaitableModel):
    description: str | None = None
    manifest: dict[str, Any] | None = {}
    has_user_valves: bool = False
    model_config = ConfigDict(extra="allow")


class ToolModel(AwaitableModel):
    version_id: str | None = None
    id: str
    user_id: str | None = None
    name: str
    content: str | None = None
    specs: list[dict[str, Any]]
    meta: ToolMeta
    access_grants: list[Any] = Field(default_factory=list)
    updated_at: int
    created_at: int
    model_config = ConfigDict(from_attributes=True)


def tool_model(row: Tool) -> ToolModel:
    return ToolModel(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        content=row.content,
        specs=list(row.specs or []),
        meta=ToolMeta.model_validate(row.meta or {}),
        updated_at=row.updated_at,
        created_at=row.created_at,
    )


async def _all(backend: Backend) -> list[Tool]:
    return list(await plugin_rows.rows(backend, PluginTable.TOOL).all())


class ToolsTable(Table):
    """`Tools`: call each method with `await` (Open WebUI 0.12.4) or without (older
    releases); see `pipehouse.compat.bridge`."""

    @dual()
    async def get_tool_by_id(backend: Backend, id: str, db: Any = None) -> ToolModel | None:
        row = await plugin_rows.rows(backend, PluginTable.TOOL).get(id)
        return tool_model(row) if row is not None else None

    @dual()
    async def get_tools_by_ids(
        backend: Backend, tool_ids: list[str], db: Any = None
    ) -> dict[str, ToolModel]:
        wanted = set(tool_ids)
        return {row.id: tool_model(row) for row in await _all(backend) if row.id in wanted}

    @dual()
    async def get_tools(backend: Backend, *args: Any, **kwargs: Any) -> list[ToolModel]:
        """Every toolkit (pipehouse lets every user read every toolkit)."""
        return [tool_model(row) for row in await _all(backend)]

    @dual()
    async def get_tools_by_user_id(
        backend: Backend, user_id: str, *args: Any, **kwargs: Any
    ) -> list[ToolModel]:
        return [tool_model(row) for row in await _all(backend)]

    @dual()
    async def get_tool_valves_by_id(backend: Backend, id: str, db: Any = None) -> dict | None:
        row = await plugin_rows.rows(backend, PluginTable.TOOL).get(id)
        return dict(row.valves or {}) if row is not None else None

    @dual(sync_on_loop=False)
    async def update_tool_valves_by_id(
        backend: Backend, id: str, valves: dict[str, Any], db: Any = None
    ) -> ToolModel | None:
        row = await plugin_rows.update_valves(
            backend, PluginTable.TOOL, id, valves, "Tools.update_tool_valves_by_id"
        )
        return tool_model(row) if row is not None else None

    @dual()
    async def get_user_valves_by_id_and_user_id(
        backend: Backend, id: str, user_id: str, db: Any = None
    ) -> dict | None:
        return await plugin_rows.user_valves(backend, PluginTable.TOOL, id, user_id)

    @dual(sync_on_loop=False)
    async def update_user_valves_by_id_and_user_id(
        backend: Backend, id: str, user_id: str, valves: dict[str, Any], db: Any = None
    ) -> dict | None:
        service = plugin_rows.plugin_service(backend, "Tools.update_user_valves_by_id_and_user_id")
        return await service.valves_forms.set_user_valves(PluginTable.TOOL, id, user_id, valves)


Tools = ToolsTable()
