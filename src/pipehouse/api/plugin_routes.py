"""What the Functions and Tools admin APIs share: row fields, version history, and the valves
and history routes, which are the same for both (Open WebUI 0.12.4 routers/functions.py,
routers/tools.py).

Admins read and change valves; every verified user keeps their own user valves, never seeing
another's. Secret valves leave masked; a posted mask keeps the stored secret. A function that is
not active has no user valves spec (null) and refuses user valves updates, as in Open WebUI.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Depends, Request

from pipehouse.api.params import LenientPage, PathId, QueryId
from pipehouse.api.principal import Principal, admin_user, current_user
from pipehouse.plugin.ids import id_problem
from pipehouse.plugin.kinds import PluginTable
from pipehouse.service.errors import NOT_FOUND, ServiceError
from pipehouse.service.plugins import PluginService
from pipehouse.store.models import Function, PluginVersion, Tool


def service(request: Request) -> PluginService:
    return request.app.state.plugins


def checked_id(raw: str) -> str:
    """A new plugin's id: a Python identifier of at most 128 characters, stored lowercased."""
    problem = id_problem(raw)
    if problem is not None:
        raise ServiceError(400, problem)
    return raw.lower()


def plugin_fields(plugins: PluginService, row: Function | Tool, *, admin: bool) -> dict[str, Any]:
    """What function and tool rows share, with pipehouse's source, path and load status. Only
    admins see where a file lives and why it does not load (errors can quote code)."""
    status = plugins.status.current(row.id)
    return {
        "id": row.id,
        "user_id": row.user_id or None,
        "name": row.name,
        "meta": row.meta or {},
        "updated_at": row.updated_at,
        "created_at": row.created_at,
        "source": row.source,
        "path": row.path if admin else None,
        "status": {
            "state": status.state,
            "error": status.error if admin else None,
            "loop_stall": status.loop_stall if admin else None,
        },
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


async def history_page(
    request: Request, kind: PluginTable, plugin_id: str, page: int
) -> list[dict]:
    versions = await service(request).versions(kind, plugin_id, page)
    names = await authors(request, (v.user_id for v in versions))
    return [version_fields(v, f"{kind}_id", names, snapshot=False) for v in versions]


async def history_entry(
    request: Request, kind: PluginTable, plugin_id: str, version_id: str
) -> dict:
    version = await service(request).version(kind, plugin_id, version_id)
    names = await authors(request, [version.user_id])
    return version_fields(version, f"{kind}_id", names, snapshot=True)


async def history_diff(
    request: Request, kind: PluginTable, plugin_id: str, from_id: str, to_id: str
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


async def save_form(
    request: Request, kind: PluginTable, plugin_id: str, form: Any, user: Principal, *, create: bool
) -> Function | Tool:
    """Create or update from an Open WebUI FunctionForm / ToolForm."""
    return await service(request).save(
        kind,
        plugin_id,
        name=form.name,
        content=form.content,
        meta=form.meta.model_dump(exclude_unset=True),
        user_id=user.id,
        message=form.commit_message,
        create=create,
    )


async def delete_or_404(request: Request, kind: PluginTable, plugin_id: str) -> bool:
    if not await service(request).delete(kind, plugin_id):
        raise ServiceError(404, NOT_FOUND)
    return True


def add_valves_and_history_routes(router: APIRouter, kind: PluginTable) -> None:
    """The valves, user valves and version history routes of one table (functions or tools)."""

    @router.get("/id/{plugin_id}/valves")
    async def get_valves(
        request: Request, plugin_id: PathId, _: Principal = Depends(admin_user)
    ) -> dict[str, Any]:
        plugins = service(request)
        row = await plugins.get(kind, plugin_id)
        return plugins.valves_forms.masked(plugin_id, row.valves)

    @router.get("/id/{plugin_id}/valves/spec")
    async def get_valves_spec(
        request: Request, plugin_id: PathId, user: Principal = Depends(admin_user)
    ) -> dict[str, Any] | None:
        forms = service(request).valves_forms
        return await forms.valves_schema(kind, plugin_id, user=False, for_user=user.user)

    @router.post("/id/{plugin_id}/valves/update")
    async def update_valves(
        request: Request,
        plugin_id: PathId,
        form: dict[str, Any],
        _: Principal = Depends(admin_user),
    ) -> dict[str, Any]:
        """Store the fields set in the form (replacing what was stored); answer as stored."""
        plugins = service(request)
        stored = await plugins.valves_forms.set_valves(kind, plugin_id, form)
        return plugins.valves_forms.masked(plugin_id, stored)

    @router.get("/id/{plugin_id}/valves/user")
    async def get_user_valves(
        request: Request, plugin_id: PathId, user: Principal = Depends(current_user)
    ) -> dict[str, Any]:
        """The caller's own user valves."""
        plugins = service(request)
        values = await plugins.valves_forms.user_valves(kind, plugin_id, user.id)
        return plugins.valves_forms.masked(plugin_id, values, user=True)

    @router.get("/id/{plugin_id}/valves/user/spec")
    async def get_user_valves_spec(
        request: Request, plugin_id: PathId, user: Principal = Depends(current_user)
    ) -> dict[str, Any] | None:
        """UserValves' JSON Schema; null for an inactive function, as in Open WebUI."""
        plugins = service(request)
        if not getattr(await plugins.get(kind, plugin_id), "is_active", True):
            return None
        return await plugins.valves_forms.valves_schema(
            kind, plugin_id, user=True, for_user=user.user
        )

    @router.post("/id/{plugin_id}/valves/user/update")
    async def update_user_valves(
        request: Request,
        plugin_id: PathId,
        form: dict[str, Any],
        user: Principal = Depends(current_user),
    ) -> dict[str, Any]:
        plugins = service(request)
        if not getattr(await plugins.get(kind, plugin_id), "is_active", True):
            raise ServiceError(400, "Function is not active")
        stored = await plugins.valves_forms.set_user_valves(kind, plugin_id, user.id, form)
        return plugins.valves_forms.masked(plugin_id, stored, user=True)

    @router.get("/id/{plugin_id}/history")
    async def get_history(
        request: Request,
        plugin_id: PathId,
        page: LenientPage = 1,
        _: Principal = Depends(admin_user),
    ) -> list[dict[str, Any]]:
        """Saved versions, newest first, 20 per page."""
        return await history_page(request, kind, plugin_id, page)

    @router.get("/id/{plugin_id}/history/diff")
    async def get_history_diff(
        request: Request,
        plugin_id: PathId,
        from_id: QueryId,
        to_id: QueryId,
        _: Principal = Depends(admin_user),
    ) -> dict[str, Any]:
        return await history_diff(request, kind, plugin_id, from_id, to_id)

    @router.get("/id/{plugin_id}/history/{history_id}")
    async def get_history_entry(
        request: Request,
        plugin_id: PathId,
        history_id: PathId,
        _: Principal = Depends(admin_user),
    ) -> dict[str, Any]:
        """One saved version with its snapshot ({name, content, meta})."""
        return await history_entry(request, kind, plugin_id, history_id)
