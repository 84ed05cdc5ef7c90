"""Where plugins run: the server's executor (inline and isolated behind one router) and the
admin routes that show and set each plugin's mode (docs/isolation.md, "Modes"; docs/api.md).

A plugin's mode is kept in its row (`meta.isolation`), set only through this route by an
admin; a plugin file cannot choose it.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from pipehouse.api.observability import Metrics
from pipehouse.api.params import PathId
from pipehouse.api.principal import Principal, admin_user
from pipehouse.config import Settings
from pipehouse.runtime.inprocess import InProcessExecutor
from pipehouse.runtime.workers.executor import ProcessExecutor
from pipehouse.runtime.workers.routing import MODES, Mode, RoutingExecutor, parse_mode
from pipehouse.runtime.workers.supervisor import Supervisor, WorkerLimits
from pipehouse.service.errors import NOT_FOUND, ServiceError
from pipehouse.service.plugin_rows import MODE_KEY
from pipehouse.service.plugins import PluginService
from pipehouse.store.models import Function, Tool
from pipehouse.store.plugins import PluginRows

DEFAULT_MODE: Mode = "isolated"

router = APIRouter(prefix="/api/v1/isolation", tags=["isolation"])


def build_executor(settings: Settings, metrics: Metrics) -> RoutingExecutor:
    """Inline and isolated executors with the server's timeouts, routed by each plugin's mode."""
    inline = InProcessExecutor(
        call_timeout=settings.call_timeout,
        idle_timeout=settings.idle_timeout,
        cache_dir=settings.data_dir / "cache" / "plugins",
        observer=metrics.observe_plugin,
    )
    limits = WorkerLimits(
        memory=settings.worker_memory,
        idle=settings.worker_idle,
        unresponsive=settings.worker_unresponsive,
        stall=settings.loop_lag_threshold or 1.0,
    )
    sharing: Literal["plugin", "environment"] = (
        "plugin" if settings.worker_sharing.strip().lower() == "plugin" else "environment"
    )
    isolated = ProcessExecutor(
        Supervisor(limits),
        call_timeout=settings.call_timeout,
        idle_timeout=settings.idle_timeout,
        observer=metrics.observe_plugin,
        sharing=sharing,
    )
    default = parse_mode(settings.isolation, DEFAULT_MODE)
    return RoutingExecutor(inline, isolated, default=default)


def supervisor_of(executor: RoutingExecutor) -> Supervisor:
    isolated = executor.isolated
    assert isinstance(isolated, ProcessExecutor)
    return isolated.supervisor


def _mode_in(row: Function | Tool | None) -> Mode | None:
    mode = (row.meta or {}).get(MODE_KEY) if row is not None else None
    return next((m for m in MODES if m == mode), None)


async def restore_modes(executor: RoutingExecutor, plugins: PluginService) -> None:
    """The modes admins set, read from the rows before the plugins load; and, from then on,
    the mode in a row another replica changed (docs/deployment.md), taken before it reloads."""
    store = plugins.store
    rows: list[Function | Tool] = [*await store.functions.all()]
    rows += await store.tools.all()
    for row in rows:
        follow_mode(executor, row.id, row)
    plugins.follow_settings = lambda plugin_id, row: follow_mode(executor, plugin_id, row)


def follow_mode(executor: RoutingExecutor, plugin_id: str, row: Function | Tool | None) -> None:
    """The plugin's next load runs where its row says (the default when it says nothing)."""
    mode = _mode_in(row)
    if mode is None:
        executor.modes.pop(plugin_id, None)
    else:
        executor.modes[plugin_id] = mode


class ModeForm(BaseModel):
    mode: Mode | None = None
    """`isolated`, `inline`, or null for the server's default."""


def _executor(request: Request) -> RoutingExecutor:
    executor = request.app.state.executor
    if not isinstance(executor, RoutingExecutor):
        raise ServiceError(409, "this server runs every plugin in one mode")
    return executor


def _answer(executor: RoutingExecutor, plugin_id: str) -> dict[str, Any]:
    return {
        "id": plugin_id,
        "mode": executor.mode_of(plugin_id),
        "set": executor.modes.get(plugin_id),
        "default": executor.default,
    }


@router.get("/")
async def list_modes(request: Request, _: Principal = Depends(admin_user)) -> dict[str, Any]:
    """The default mode, each plugin's own, and the worker pools running now."""
    executor = _executor(request)
    isolated = executor.isolated
    workers = isolated.describe() if isinstance(isolated, ProcessExecutor) else {}
    return {"default": executor.default, "plugins": dict(executor.modes), "workers": workers}


@router.get("/{plugin_id}")
async def get_mode(
    request: Request, plugin_id: PathId, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    return _answer(_executor(request), plugin_id)


@router.post("/{plugin_id}")
async def set_mode(
    request: Request, plugin_id: PathId, form: ModeForm, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """Run one plugin isolated or inline (null: the default); it moves at once, and keeps its
    mode across restarts."""
    executor = _executor(request)
    plugins: PluginService = request.app.state.plugins
    store = plugins.store
    rows: PluginRows[Function] | PluginRows[Tool] = store.functions
    row: Function | Tool | None = await store.functions.get(plugin_id)
    if row is None:
        row, rows = await store.tools.get(plugin_id), store.tools
    if row is None:
        raise ServiceError(404, NOT_FOUND)
    meta = dict(row.meta or {})
    if form.mode is None:
        meta.pop(MODE_KEY, None)
    else:
        meta[MODE_KEY] = form.mode
    await rows.update(plugin_id, meta=meta)
    await executor.set_mode(plugin_id, form.mode)
    await plugins.announce("plugin", plugin_id)  # other replicas move it too
    return _answer(executor, plugin_id)
