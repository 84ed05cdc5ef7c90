"""The stored row of a loaded plugin: what a save writes and what it must keep."""

from __future__ import annotations

from typing import Any

from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind, PluginTable
from pipehouse.store.models import Function, Tool

MODE_KEY = "isolation"  # meta's key for the mode an admin set (api/isolation.py), never a form


def build_row(
    info: PluginInfo,
    existing: Function | Tool | None,
    *,
    name: str,
    content: str,
    meta: dict[str, Any],
    source: str,
    path: str | None,
    user_id: str,
    starts_enabled: bool,
) -> Function | Tool:
    """The row to save for loaded code. It keeps what a save must not change (owner, valves,
    creation time, flags, the isolation mode); a new function starts enabled or not by
    `starts_enabled`: directory files do, functions created through the API do not (as in Open
    WebUI)."""
    meta = {"description": info.description, **meta, "manifest": info.frontmatter}
    meta.pop(MODE_KEY, None)
    mode = (existing.meta or {}).get(MODE_KEY) if existing is not None else None
    if mode is not None:
        meta[MODE_KEY] = mode
    fields: dict[str, Any] = {
        "id": info.id,
        "user_id": existing.user_id if existing is not None else user_id,
        "name": name,
        "content": content,
        "meta": meta,
        "valves": existing.valves if existing is not None else None,
        "source": source,
        "path": path,
    }
    if existing is not None:
        fields["created_at"] = existing.created_at
    if info.kind is PluginKind.TOOLS:
        meta["has_user_valves"] = info.has_user_valves
        return Tool(specs=info.tool_specs, **fields)
    meta["toggle"] = info.toggle
    kept = existing if isinstance(existing, Function) else None
    return Function(
        type="pipeline" if info.kind is PluginKind.PIPELINE else info.kind.value,
        is_active=kept.is_active if kept is not None else starts_enabled,
        is_global=kept.is_global if kept is not None else starts_enabled,
        **fields,
    )


def row_kind(row: Function | Tool) -> PluginTable:
    """The table a row lives in."""
    return PluginTable.TOOL if isinstance(row, Tool) else PluginTable.FUNCTION
