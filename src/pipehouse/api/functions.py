"""Open WebUI's Functions API under `/api/v1/functions`: the paths, payloads and status codes of
Open WebUI 0.12.4 (reference 9.1), served from `PluginService`.

Rows carry Open WebUI's fields plus pipehouse's `source` ("api" | "directory"), `path` and
`status` ({state: loaded | error | missing, error}), so a plugin that does not load says why.
Admins change code, flags and valves; every verified user may list functions and keep their own
user valves. Secret valves leave masked; a posted mask keeps the stored secret. Where pipehouse
answers differently from Open WebUI (404 for a missing id, for one) docs/compatibility.md says
why. The helpers at the top are shared with the Tools API (`api/tools.py`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from pipehouse.api.auth import Principal, admin_user, current_user
from pipehouse.service.plugins import NOT_FOUND, PluginService, ServiceError
from pipehouse.store.models import Function, PluginVersion, Tool

router = APIRouter(prefix="/api/v1/functions", tags=["functions"])

KIND = "function"


# -- shared with api/tools.py ------------------------------------------------------------------
def service(request: Request) -> PluginService:
    return request.app.state.plugins


def checked_id(raw: str) -> str:
    """A new plugin's id: a Python identifier, stored lowercased (as Open WebUI does)."""
    if not raw.isidentifier():
        raise ServiceError(
            400, "Only alphanumeric characters and underscores are allowed in the id"
        )
    return raw.lower()


def plugin_fields(plugins: PluginService, row: Function | Tool, *, admin: bool) -> dict[str, Any]:
    """What function and tool rows share, with pipehouse's source, path and load status. Only
    admins see where a file lives and why it does not load (errors can quote code)."""
    status = plugins.state(row.id)
    return {
        "id": row.id,
        "user_id": row.user_id or None,
        "name": row.name,
        "meta": row.meta or {},
        "updated_at": row.updated_at,
        "created_at": row.created_at,
        "source": row.source,
        "path": row.path if admin else None,
        "status": {"state": status.state, "error": status.error if admin else None},
    }


async def authors(request: Request, user_ids: Iterable[str | None]) -> dict[str, dict[str, Any]]:
    """Open WebUI's `UserResponse` ({id, name, role, email}) for each id that is a user."""
    accounts = request.app.state.accounts
    found = {}
    for user_id in {u for u in user_ids if u}:
        user = await accounts.get_user(user_id)
        if user is not None:
            found[user_id] = {
                "id": user.id,
                "name": user.name,
                "role": user.role,
                "email": user.email,
            }
    return found


def version_fields(
    version: PluginVersion, id_key: str, names: dict[str, dict[str, Any]], *, snapshot: bool
) -> dict[str, Any]:
    """A history entry as Open WebUI shows it (`function_id` or `tool_id`, author's name)."""
    author = names.get(version.user_id or "")
    entry = {
        "id": version.id,
        id_key: version.plugin_id,
        "parent_id": version.parent_id,
        "user_id": version.user_id,
        "commit_message": version.commit_message,
        "created_at": version.created_at,
        "user": {"name": author["name"]} if author else None,
    }
    if snapshot:
        entry["snapshot"] = version.snapshot
    return entry


async def history_page(request: Request, kind: str, plugin_id: str, page: int) -> list[dict]:
    versions = await service(request).versions(kind, plugin_id, page)
    names = await authors(request, (v.user_id for v in versions))
    return [version_fields(v, f"{kind}_id", names, snapshot=False) for v in versions]


async def history_entry(request: Request, kind: str, plugin_id: str, version_id: str) -> dict:
    version = await service(request).version(kind, plugin_id, version_id)
    names = await authors(request, [version.user_id])
    return version_fields(version, f"{kind}_id", names, snapshot=True)


async def history_diff(
    request: Request, kind: str, plugin_id: str, from_id: str, to_id: str
) -> dict[str, Any]:
    """What changed between two versions: name and meta side by side, the code as a patch."""
    plugins = service(request)
    before = (await plugins.version(kind, plugin_id, from_id)).snapshot
    after = (await plugins.version(kind, plugin_id, to_id)).snapshot
    old, new = before.get("content") or "", after.get("content") or ""
    patch = "\n".join(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), f"{from_id}.py", f"{to_id}.py", lineterm=""
        )
    )
    return {
        "from_id": from_id,
        "to_id": to_id,
        "metadata": {
            key: {"before": before.get(key), "after": after.get(key)}
            for key in ("name", "meta")
            if before.get(key) != after.get(key)
        },
        "content_diff": patch,
        "line_endings_only": old != new and not patch,
    }


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
        fields["valves"] = plugins.masked(row.id, row.valves)
    if version_id is not None:
        fields["version_id"] = version_id
    return fields


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
        for row in await plugins.all(KIND)
    ]


@router.get("/list")
async def list_functions_with_users(
    request: Request, _: Principal = Depends(admin_user)
) -> list[dict[str, Any]]:
    """Every function with its author, the most recently updated first."""
    plugins = service(request)
    rows = await plugins.all(KIND)
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
        for row in await plugins.all(KIND)
    ]


@router.post("/create")
async def create_function(
    request: Request, form: FunctionForm, user: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """A new function, loaded and type-detected; it starts inactive and non-global."""
    row = await service(request).save(
        KIND,
        checked_id(form.id),
        name=form.name,
        content=form.content,
        meta=form.meta.model_dump(exclude_unset=True),
        user_id=user.id,
        message=form.commit_message,
        create=True,
    )
    return await _one(request, row, content=False)


@router.get("/id/{function_id}")
async def get_function(
    request: Request, function_id: str, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    return await _one(request, await _function(request, function_id))


@router.post("/id/{function_id}/toggle")
async def toggle_function(
    request: Request, function_id: str, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """Switch `is_active`; an inactive function is no model, filter or action."""
    return await _toggle(request, function_id, "is_active")


@router.post("/id/{function_id}/toggle/global")
async def toggle_function_global(
    request: Request, function_id: str, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """Switch `is_global`: a global filter or action applies to every model."""
    return await _toggle(request, function_id, "is_global")


@router.post("/id/{function_id}/update")
async def update_function(
    request: Request, function_id: str, form: FunctionForm, user: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """New code for a function: reloaded, re-typed, valves re-checked, a version kept."""
    row = await service(request).save(
        KIND,
        function_id,
        name=form.name,
        content=form.content,
        meta=form.meta.model_dump(exclude_unset=True),
        user_id=user.id,
        message=form.commit_message,
        create=False,
    )
    assert isinstance(row, Function)
    return await _one(request, row)


@router.delete("/id/{function_id}/delete")
@router.delete("/id/{function_id}")
async def delete_function(
    request: Request, function_id: str, _: Principal = Depends(admin_user)
) -> bool:
    if not await service(request).delete(KIND, function_id):
        raise ServiceError(404, NOT_FOUND)
    return True


@router.get("/id/{function_id}/valves")
async def get_function_valves(
    request: Request, function_id: str, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    plugins = service(request)
    row = await _function(request, function_id)
    return plugins.masked(function_id, row.valves)


@router.get("/id/{function_id}/valves/spec")
async def get_function_valves_spec(
    request: Request, function_id: str, user: Principal = Depends(admin_user)
) -> dict[str, Any] | None:
    return await service(request).valves_schema(KIND, function_id, user=False, for_user=user.user)


@router.post("/id/{function_id}/valves/update")
async def update_function_valves(
    request: Request, function_id: str, form: dict[str, Any], _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """Store the fields set in the form (replacing what was stored); answer as stored."""
    plugins = service(request)
    stored = await plugins.set_valves(KIND, function_id, form)
    return plugins.masked(function_id, stored)


@router.get("/id/{function_id}/valves/user")
async def get_function_user_valves(
    request: Request, function_id: str, user: Principal = Depends(current_user)
) -> dict[str, Any]:
    """The caller's own user valves for this function."""
    plugins = service(request)
    values = await plugins.user_valves(KIND, function_id, user.id)
    return plugins.masked(function_id, values, user=True)


@router.get("/id/{function_id}/valves/user/spec")
async def get_function_user_valves_spec(
    request: Request, function_id: str, user: Principal = Depends(current_user)
) -> dict[str, Any] | None:
    """UserValves' JSON Schema; null for an inactive function, as in Open WebUI."""
    row = await _function(request, function_id)
    if not row.is_active:
        return None
    return await service(request).valves_schema(KIND, function_id, user=True, for_user=user.user)


@router.post("/id/{function_id}/valves/user/update")
async def update_function_user_valves(
    request: Request,
    function_id: str,
    form: dict[str, Any],
    user: Principal = Depends(current_user),
) -> dict[str, Any]:
    row = await _function(request, function_id)
    if not row.is_active:
        raise ServiceError(400, "Function is not active")
    plugins = service(request)
    stored = await plugins.set_user_valves(KIND, function_id, user.id, form)
    return plugins.masked(function_id, stored, user=True)


@router.get("/id/{function_id}/history")
async def get_function_history(
    request: Request, function_id: str, page: int = 1, _: Principal = Depends(admin_user)
) -> list[dict[str, Any]]:
    """Saved versions, newest first, 20 per page."""
    return await history_page(request, KIND, function_id, page)


@router.get("/id/{function_id}/history/diff")
async def get_function_history_diff(
    request: Request,
    function_id: str,
    from_id: str,
    to_id: str,
    _: Principal = Depends(admin_user),
) -> dict[str, Any]:
    return await history_diff(request, KIND, function_id, from_id, to_id)


@router.get("/id/{function_id}/history/{history_id}")
async def get_function_history_entry(
    request: Request, function_id: str, history_id: str, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """One saved version with its snapshot ({name, content, meta})."""
    return await history_entry(request, KIND, function_id, history_id)
