"""Open WebUI's Tools API under `/api/v1/tools`: the paths, payloads and status codes of Open
WebUI 0.12.4 (routers/tools.py) for local toolkits, served from `PluginService`.

pipehouse has no access grants or workspace permissions: every verified user may read every
toolkit (without its code) and keep their own user valves; admins change code and valves.
Rows carry pipehouse's `source`, `path` and `status` as in the Functions API; what both share is
in `api/plugin_routes.py`.
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
from pipehouse.service.plugins import PluginService
from pipehouse.store.models import Tool

router = APIRouter(prefix="/api/v1/tools", tags=["tools"])

KIND = PluginTable.TOOL


class ToolMeta(BaseModel):
    model_config = ConfigDict(extra="allow")
    i18n: dict[str, dict[str, str]] | None = None
    description: str | None = None
    manifest: dict[str, Any] | None = {}
    has_user_valves: bool = False


class ToolForm(BaseModel):
    id: str
    name: str
    content: str
    meta: ToolMeta
    access_grants: list[dict[str, Any]] | None = None  # accepted and ignored: no access grants
    commit_message: str | None = None


def tool_fields(
    plugins: PluginService,
    row: Tool,
    *,
    admin: bool,
    content: bool,
    valves: bool = False,
    version_id: str | None = None,
) -> dict[str, Any]:
    fields = plugin_fields(plugins, row, admin=admin)
    fields["specs"] = row.specs or []
    fields["access_grants"] = []
    if content:
        fields["content"] = row.content
    if valves:
        fields["valves"] = plugins.valves_forms.masked(row.id, row.valves)
    if version_id is not None:
        fields["version_id"] = version_id
    return fields


def _has_user_valves(plugins: PluginService, row: Tool) -> bool:
    """From the live toolkit when it is loaded, else from what was stored (as Open WebUI)."""
    entry = plugins.catalog.get(row.id)
    if entry is not None:
        return entry.info.has_user_valves
    return bool((row.meta or {}).get("has_user_valves"))


async def _tool(request: Request, tool_id: str) -> Tool:
    row = await service(request).get(KIND, tool_id)
    assert isinstance(row, Tool)
    return row


async def _one(request: Request, row: Tool, *, content: bool = True) -> dict[str, Any]:
    plugins = service(request)
    version_id = await plugins.latest_version_id(KIND, row.id)
    return tool_fields(plugins, row, admin=True, content=content, version_id=version_id)


async def _listed(request: Request, user: Principal) -> list[dict[str, Any]]:
    """Every toolkit with its author and specs, without code; the latest update first."""
    plugins = service(request)
    rows = [row for row in await plugins.all(KIND) if isinstance(row, Tool)]
    users = await authors(request, (row.user_id for row in rows))
    return [
        tool_fields(plugins, row, admin=user.is_admin, content=False)
        | {"user": users.get(row.user_id), "has_user_valves": _has_user_valves(plugins, row)}
        for row in rows
    ]


@router.get("/")
async def list_tools(
    request: Request, query: str | None = None, user: Principal = Depends(current_user)
) -> list[dict[str, Any]]:
    """Toolkits, optionally only those whose name contains `query` (any case)."""
    tools = await _listed(request, user)
    if query:
        wanted = query.casefold()
        tools = [t for t in tools if wanted in (t["name"] or "").casefold()]
    return tools


@router.get("/list")
async def list_tools_with_access(
    request: Request, user: Principal = Depends(current_user)
) -> list[dict[str, Any]]:
    """Toolkits with `write_access`: admins may change them, users may use them."""
    return [t | {"write_access": user.is_admin} for t in await _listed(request, user)]


@router.get("/export")
async def export_tools(
    request: Request, include_valves: bool = False, _: Principal = Depends(admin_user)
) -> list[dict[str, Any]]:
    """Every toolkit with its code (and valves, secrets masked, when asked)."""
    plugins = service(request)
    return [
        tool_fields(plugins, row, admin=True, content=True, valves=include_valves)
        for row in await plugins.all(KIND)
        if isinstance(row, Tool)
    ]


@router.post("/create")
async def create_tool(
    request: Request, form: ToolForm, user: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """A new toolkit, loaded, its specs generated from its methods."""
    row = await save_form(request, KIND, checked_id(form.id), form, user, create=True)
    assert isinstance(row, Tool)
    fields = await _one(request, row, content=False)
    fields.pop("specs")  # Open WebUI's ToolResponse
    return fields


@router.get("/id/{tool_id}")
async def get_tool(
    request: Request, tool_id: PathId, user: Principal = Depends(current_user)
) -> dict[str, Any]:
    """One toolkit; its code only for those who may change it (admins)."""
    row = await _tool(request, tool_id)
    if user.is_admin:
        return await _one(request, row) | {"write_access": True}
    plugins = service(request)
    return tool_fields(plugins, row, admin=False, content=False) | {"write_access": False}


@router.post("/id/{tool_id}/update")
async def update_tool(
    request: Request, tool_id: PathId, form: ToolForm, user: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """New code for a toolkit: reloaded, specs regenerated, valves re-checked, a version kept."""
    row = await save_form(request, KIND, tool_id, form, user, create=False)
    assert isinstance(row, Tool)
    return await _one(request, row)


@router.delete("/id/{tool_id}/delete")
@router.delete("/id/{tool_id}")
async def delete_tool(
    request: Request, tool_id: PathId, _: Principal = Depends(admin_user)
) -> bool:
    return await delete_or_404(request, KIND, tool_id)


add_valves_and_history_routes(router, KIND)
