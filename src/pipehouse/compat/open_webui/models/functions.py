"""`open_webui.models.functions`: pipehouse's functions (pipes, filters, actions) as Open
WebUI's `FunctionModel`s. Valves writes go through the plugin service, which validates them
and applies them to the live plugin."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from pipehouse.compat import plugin_rows
from pipehouse.compat.bridge import AwaitableModel, Table, dual
from pipehouse.compat.errors import missing_names
from pipehouse.compat.services import Backend
from pipehouse.plugin.kinds import PluginTable
from pipehouse.store.models import Function

__all__ = ["FunctionMeta", "FunctionModel", "FunctionWithValvesModel", "Functions"]
__getattr__ = missing_names(__name__)


class FunctionMeta(AwaitableModel):
    description: str | None = None
    manifest: dict[str, Any] | None = {}
    model_config = ConfigDict(extra="allow")


class FunctionModel(AwaitableModel):
    version_id: str | None = None
    id: str
    user_id: str | None = None
    name: str
    type: str
    content: str
    meta: FunctionMeta
    is_active: bool = False
    is_global: bool = False
    updated_at: int
    created_at: int
    model_config = ConfigDict(from_attributes=True)


class FunctionWithValvesModel(FunctionModel):
    valves: dict[str, Any] | None = None


def function_model(row: Function, with_valves: bool = False) -> FunctionModel:
    data = {
        "id": row.id,
        "user_id": row.user_id,
        "name": row.name,
        "type": row.type,
        "content": row.content,
        "meta": row.meta or {},
        "is_active": row.is_active,
        "is_global": row.is_global,
        "updated_at": row.updated_at,
        "created_at": row.created_at,
    }
    if with_valves:
        return FunctionWithValvesModel.model_validate({**data, "valves": row.valves})
    return FunctionModel.model_validate(data)


async def _all(backend: Backend) -> list[Function]:
    return list(await plugin_rows.rows(backend, PluginTable.FUNCTION).all())


class FunctionsTable(Table):
    """`Functions`: call each method with `await` (Open WebUI 0.12.4) or without (older
    releases); see `pipehouse.compat.bridge`."""

    @dual()
    async def get_function_by_id(backend: Backend, id: str, db: Any = None) -> FunctionModel | None:
        row = await plugin_rows.rows(backend, PluginTable.FUNCTION).get(id)
        return function_model(row) if row is not None else None

    @dual()
    async def get_functions_by_ids(
        backend: Backend, ids: list[str], db: Any = None
    ) -> list[FunctionModel]:
        wanted = set(ids)
        return [function_model(row) for row in await _all(backend) if row.id in wanted]

    @dual()
    async def get_functions(
        backend: Backend, active_only: bool = False, include_valves: bool = False, db: Any = None
    ) -> list[FunctionModel]:
        return [
            function_model(row, include_valves)
            for row in await _all(backend)
            if row.is_active or not active_only
        ]

    @dual()
    async def get_functions_by_type(
        backend: Backend, type: str, active_only: bool = False, db: Any = None
    ) -> list[FunctionModel]:
        return [
            function_model(row)
            for row in await _all(backend)
            if row.type == type and (row.is_active or not active_only)
        ]

    @dual()
    async def get_global_filter_functions(backend: Backend, db: Any = None) -> list[FunctionModel]:
        return [
            function_model(row)
            for row in await _all(backend)
            if row.type == "filter" and row.is_active and row.is_global
        ]

    @dual()
    async def get_function_valves_by_id(backend: Backend, id: str, db: Any = None) -> dict | None:
        row = await plugin_rows.rows(backend, PluginTable.FUNCTION).get(id)
        return dict(row.valves or {}) if row is not None else None

    @dual(sync_on_loop=False)
    async def update_function_valves_by_id(
        backend: Backend, id: str, valves: dict[str, Any], db: Any = None
    ) -> FunctionModel | None:
        """Validated against the function's Valves and applied to it, like a save through
        the API (a value that does not validate raises)."""
        row = await plugin_rows.update_valves(
            backend, PluginTable.FUNCTION, id, valves, "Functions.update_function_valves_by_id"
        )
        return function_model(row) if row is not None else None

    @dual()
    async def get_user_valves_by_id_and_user_id(
        backend: Backend, id: str, user_id: str, db: Any = None
    ) -> dict | None:
        return await plugin_rows.user_valves(backend, PluginTable.FUNCTION, id, user_id)

    @dual(sync_on_loop=False)
    async def update_user_valves_by_id_and_user_id(
        backend: Backend, id: str, user_id: str, valves: dict[str, Any], db: Any = None
    ) -> dict | None:
        service = plugin_rows.plugin_service(
            backend, "Functions.update_user_valves_by_id_and_user_id"
        )
        return await service.valves_forms.set_user_valves(PluginTable.FUNCTION, id, user_id, valves)


Functions = FunctionsTable()
