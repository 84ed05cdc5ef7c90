"""Open WebUI's Functions API under `/api/v1/functions`: the paths, payloads and status codes of
Open WebUI 0.12.4 (routers/functions.py), served from `PluginService`.

Rows carry Open WebUI's fields plus pipehouse's `source` ("api" | "directory"), `path` and
`status` ({state: loaded | error | missing, error}), so a plugin that does not load says why.
Admins change code, flags and valves; every verified user may list functions and keep their own
user valves. Secret valves leave masked; a posted mask keeps the stored secret. Where pipehouse
answers differently from Open WebUI (404 for a missing id, for one) docs/compatibility.md says
why. What it shares with the Tools API is in `api/plugin_routes.py`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from pipehouse.api.params import PathId
from pipehouse.api.plugin_routes import (
    add_valves_and_history_routes,
    authors,
    checked_id,
    delete_or_404,
    plugin_fields,
    save_form,
    service,
)
from pipehouse.api.principal import Principal, admin_user, current_user
from pipehouse.plugin.kinds import PluginTable
from pipehouse.service.errors import NOT_FOUND, ServiceError
from pipehouse.service.plugins import PluginService
from pipehouse.store.models import Function

router = APIRouter(prefix="/api/v1/functions", tags=["functions"])

KIND = PluginTable.FUNCTION


# -- functions ---------------------------------------------------------------------------------
class FunctionMeta(BaseModel):
    model_config = ConfigDict(extra="allow")
    description: str | None = None
    manifest: dict[str, Any] | None = {}


class FunctionForm(BaseModel):
    id: str
    name: str
    content: str
    meta: FunctionMeta
    commit_message: str | None = None


def function_fields(
    plugins: PluginService,
    row: Function,
    *,
    admin: bool,
    content: bool,
    valves: bool = False,
    version_id: str | None = None,
) -> dict[str, Any]:
    fields = plugin_fields(plugins, row, admin=admin)
    fields["type"] = row.type
    fields["is_active"] = row.is_active
    fields["is_global"] = row.is_global
    if content:
        fields["content"] = row.content
    if valves:
        fields["valves"] = plugins.valves_forms.masked(row.id, row.valves)
    if version_id is not None:
        fields["version_id"] = version_id
    return fields


async def _functions(plugins: PluginService) -> list[Function]:
    return [row for row in await plugins.all(KIND) if isinstance(row, Function)]


async def _one(request: Request, row: Function, *, content: bool = True) -> dict[str, Any]:
    plugins = service(request)
    version_id = await plugins.latest_version_id(KIND, row.id)
    return function_fields(plugins, row, admin=True, content=content, version_id=version_id)


async def _function(request: Request, function_id: str) -> Function:
    row = await service(request).get(KIND, function_id)
    assert isinstance(row, Function)
    return row


async def _toggle(request: Request, function_id: str, flag: str) -> dict[str, Any]:
    row = await _function(request, function_id)
    changed = await service(request).set_flags(function_id, **{flag: not getattr(row, flag)})
    if changed is None:
        raise ServiceError(404, NOT_FOUND)
    return await _one(request, changed)


@router.get("/")
async def list_functions(
    request: Request, user: Principal = Depends(current_user)
) -> list[dict[str, Any]]:
    """Every function, active or not, without its code (Open WebUI's `FunctionResponse`)."""
    plugins = service(request)
    return [
        function_fields(plugins, row, admin=user.is_admin, content=False)
        for row in await _functions(plugins)
    ]


@router.get("/list")
async def list_functions_with_users(
    request: Request, _: Principal = Depends(admin_user)
) -> list[dict[str, Any]]:
    """Every function with its author, the most recently updated first."""
    plugins = service(request)
    rows = await _functions(plugins)
    users = await authors(request, (row.user_id for row in rows))
    return [
        function_fields(plugins, row, admin=True, content=False) | {"user": users.get(row.user_id)}
        for row in rows
    ]


@router.get("/export")
async def export_functions(
    request: Request, include_valves: bool = False, _: Principal = Depends(admin_user)
) -> list[dict[str, Any]]:
    """Every function with its code (and valves, secrets masked, when asked)."""
    plugins = service(request)
    return [
        function_fields(plugins, row, admin=True, content=True, valves=include_valves)
        for row in await _functions(plugins)
    ]


@router.post("/create")
async def create_function(
    request: Request, form: FunctionForm, user: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """A new function, loaded and type-detected; it starts inactive and non-global."""
    row = await save_form(request, KIND, checked_id(form.id), form, user, create=True)
    assert isinstance(row, Function)
    return await _one(request, row, content=False)


@router.get("/id/{function_id}")
async def get_function(
    request: Request, function_id: PathId, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    return await _one(request, await _function(request, function_id))


@router.post("/id/{function_id}/toggle")
async def toggle_function(
    request: Request, function_id: PathId, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """Switch `is_active`; an inactive function is no model, filter or action."""
    return await _toggle(request, function_id, "is_active")


@router.post("/id/{function_id}/toggle/global")
async def toggle_function_global(
    request: Request, function_id: PathId, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """Switch `is_global`: a global filter or action applies to every model."""
    return await _toggle(request, function_id, "is_global")


@router.post("/id/{function_id}/update")
async def update_function(
    request: Request, function_id: PathId, form: FunctionForm, user: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """New code for a function: reloaded, re-typed, valves re-checked, a version kept."""
    row = await save_form(request, KIND, function_id, form, user, create=False)
    assert isinstance(row, Function)
    return await _one(request, row)


@router.delete("/id/{function_id}/delete")
@router.delete("/id/{function_id}")
async def delete_function(
    request: Request, function_id: PathId, _: Principal = Depends(admin_user)
) -> bool:
    return await delete_or_404(request, KIND, function_id)


add_valves_and_history_routes(router, KIND)
