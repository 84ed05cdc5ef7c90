"""Plugin environments over HTTP (admin only): list, show, rebuild, prune, and a plugin's failed
install retried; plus the 503 a chat request gets while its plugin's environment is built."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from pipehouse.api.params import PathId
from pipehouse.api.principal import Principal, admin_user
from pipehouse.envs import Environments
from pipehouse.runtime.encoding import error_body
from pipehouse.service.errors import ServiceError
from pipehouse.service.plugin_envs import RETRY_AFTER
from pipehouse.service.plugins import PluginService

router = APIRouter(prefix="/api/v1/environments", tags=["environments"])


def _plugins(request: Request) -> PluginService:
    return request.app.state.plugins


def _environments(request: Request) -> Environments:
    environments = _plugins(request).environments.environments
    if environments is None:
        raise ServiceError(404, "this server does not build environments")
    return environments


@router.get("")
async def list_environments(
    request: Request, _: Principal = Depends(admin_user)
) -> list[dict[str, Any]]:
    """Every environment in the data dir: `{key, state: queued|installing|ready|failed, step,
    progress (the installer's last lines), error, requirements, plugins, size, created}`."""
    return [state.to_dict() for state in _environments(request).list()]


@router.get("/{key}")
async def show_environment(
    key: PathId, request: Request, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    state = _environments(request).state(key)
    if state is None:
        raise ServiceError(404, f"no environment {key}")
    return state.to_dict()


@router.post("/{key}/rebuild")
async def rebuild_environment(
    key: PathId, request: Request, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """Build again from scratch (a failed install retried); its plugins load when it is ready."""
    plugins = _plugins(request)
    try:
        state = _environments(request).rebuild(key)
    except KeyError:
        raise ServiceError(404, f"no environment {key}") from None
    for plugin_id in list(state.plugins):
        if plugins.environments.keys.get(plugin_id) == key:
            await plugins.retry_environment(plugin_id)
    return state.to_dict()


@router.post("/prune")
async def prune_environments(
    request: Request, _: Principal = Depends(admin_user)
) -> dict[str, list[str]]:
    """Remove environments no plugin of this server uses, failed ones, and those built for
    another Python or other pipehouse packages."""
    in_use = _plugins(request).environments.in_use()
    return {"removed": _environments(request).prune(keep=in_use)}


@router.post("/plugins/{plugin_id}/retry")
async def retry_plugin_environment(
    plugin_id: PathId, request: Request, _: Principal = Depends(admin_user)
) -> dict[str, Any]:
    """Install a plugin's environment again after a failure; the plugin loads when ready."""
    return await _plugins(request).retry_environment(plugin_id)


def building_response(request: Request, model: str) -> JSONResponse | None:
    """503 with Retry-After when `model`'s plugin is waiting for its environment."""
    plugins: PluginService | None = getattr(request.app.state, "plugins", None)
    building = plugins.building(model) if plugins is not None else None
    if building is None:
        return None
    message = (
        f"The model '{model}' is not ready: its plugin's environment "
        f"({', '.join(building.get('requirements', []))}) is being installed "
        f"({building.get('state')}: {building.get('step')}); try again shortly"
    )
    body = error_body(message, type_="service_unavailable", code="environment_building")
    body["detail"] = message
    body["environment"] = {k: building.get(k) for k in ("key", "state", "step")}
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER)})
