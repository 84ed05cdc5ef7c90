"""The Pipelines-server protocol, so an Open WebUI admin can attach pipehouse as a Pipelines
connection (the Pipelines server's main.py; docs/pipelines.md): the model listing with
`"pipelines": true`, the filter hooks Open WebUI calls around every chat, valves, and plugin
management. Every route needs a pipehouse key; valves and management need an admin's.

The connection's URL is pipehouse's root, as for a Pipelines server: `GET /models` and
`POST /chat/completions` answer there. `/v1/models` stays the plain OpenAI listing (no filters,
no `"pipelines"`), so an Open WebUI that already uses pipehouse's `/v1` as an OpenAI connection
does not start sending every chat through pipehouse's filters. The other routes are also under
`/v1`, as on the Pipelines server.

Who runs a filter: pipehouse runs its whole chain (Pipelines and Functions filters, a Pipelines
pipe's own hooks) whenever it answers a chat. Open WebUI calls `/{id}/filter/inlet` and
`/outlet` for each listed filter that targets the chat's model, whichever connection answers
it. For a model pipehouse answers, those calls return the body unchanged: the chat request
that follows runs the filter, and running it on both sides would apply it twice. For any other
model the hook runs here. Only Pipelines-format filters are listed; Functions filters keep
guarding pipehouse's own models (they also have `stream` hooks and toggles, which the protocol
cannot express), but `/{id}/filter/inlet` runs them when asked.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from pipehouse.api.errors import plugin_error_response, redacted
from pipehouse.api.openai import JSONAnswer
from pipehouse.api.params import MAX_ID_LENGTH, PathId
from pipehouse.api.pipeline_sources import download, read_upload
from pipehouse.api.principal import Principal, admin_user, current_user
from pipehouse.files.upload import upload_form
from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind, PluginTable
from pipehouse.plugin.loader import plugin_id_from_path
from pipehouse.runtime.catalog import Catalog, Entry
from pipehouse.runtime.chat import ChatRuntime
from pipehouse.runtime.request_rules import build_metadata
from pipehouse.runtime.users import dunder_user
from pipehouse.service.errors import NOT_FOUND, ServiceError
from pipehouse.service.plugins import PluginService
from pipehouse.store.models import Function, Tool

log = logging.getLogger(__name__)

router = APIRouter(tags=["pipelines"])

UPLOAD_FORM = upload_form()


def _service(request: Request) -> PluginService:
    return request.app.state.plugins


def readable(error: ServiceError) -> JSONResponse:
    """Open WebUI's Pipelines page shows `detail` as text, so a structured error (a load or
    valves error) leaves as its message, with the structure under `error` and one entry per
    invalid field under `errors`."""
    detail = error.detail
    if not isinstance(detail, dict):
        return JSONResponse({"detail": detail}, status_code=error.status)
    message = str(detail.get("message") or detail)
    if detail.get("line"):
        message = f"{detail.get('type')} at line {detail['line']}: {message}"
    body: dict[str, Any] = {"detail": message, "error": detail}
    errors = (detail.get("details") or {}).get("errors")
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=error.status)


# -- the model listing ------------------------------------------------------------------------
def advertised_filters(catalog: Catalog) -> list[Entry]:
    """The filters Open WebUI is told of: active, global Pipelines-format filters, the ones
    pipehouse itself would run for the models they target."""
    found = [e for e in catalog.filters() if e.info.kind is PluginKind.PIPELINE and e.is_global]
    return sorted(found, key=lambda e: e.info.id)


async def filter_model(runtime: ChatRuntime, entry: Entry) -> dict[str, Any]:
    """A filter as a Pipelines server lists it: a "model" whose `pipeline` holds its targets
    and priority, read as the runtime reads them (stored valves over the plugin's own). A
    filter without a `pipelines` valve targets nothing instead of breaking the listing."""
    info = entry.info
    stored = await runtime.store.valves(info.id) or {}
    defaults = info.valves_defaults or {}
    targets = stored.get("pipelines", defaults.get("pipelines"))
    priority = stored.get("priority", defaults.get("priority", 0))
    return {
        "id": info.id,
        "name": info.name,
        "object": "model",
        "created": entry.created_at,
        "owned_by": "openai",
        "pipeline": {
            "type": "filter",
            "valves": info.has_valves,
            "pipelines": [t for t in targets if isinstance(t, str)]
            if isinstance(targets, list)
            else [],
            "priority": priority if isinstance(priority, int) else 0,
        },
    }


@router.get("/models")
async def pipelines_models(request: Request, _: Principal = Depends(current_user)) -> Response:
    """Every model pipehouse answers (as `/v1/models`), then its Pipelines-format filters with
    `pipeline: {type, valves, pipelines, priority}`; `"pipelines": true` is how Open WebUI
    recognises a Pipelines connection."""
    runtime: ChatRuntime = request.app.state.runtime
    models = await runtime.models()
    filters = [await filter_model(runtime, e) for e in advertised_filters(runtime.catalog)]
    return JSONAnswer({"object": "list", "pipelines": True, "data": [*models, *filters]})


# -- filter hooks -----------------------------------------------------------------------------
class FilterForm(BaseModel):
    """What Open WebUI posts to a filter hook: the chat payload and who is chatting."""

    model_config = ConfigDict(extra="allow")
    body: dict[str, Any]
    user: dict[str, Any] | None = None


def _unprefixed(name: str) -> list[str]:
    """A name as sent, then without its first dotted part: an Open WebUI connection with a
    Prefix ID sends `PREFIX.id` in hook paths and bodies (it strips it only from chats)."""
    return [name, name.partition(".")[2]] if "." in name else [name]


def hook_owner(catalog: Catalog, plugin_id: str) -> Entry:
    """The plugin a hook path names: an id, or a manifold's sub-model (`manifold.sub`), whose
    hooks are the manifold's own, as on the Pipelines server; either behind a prefix."""
    for name in _unprefixed(plugin_id):
        entry = catalog.get(name)
        if entry is None and "." in name:
            owner = catalog.get(name.partition(".")[0])
            entry = owner if owner is not None and owner.info.is_manifold else None
        if entry is not None:
            return entry
    raise ServiceError(404, f"Filter {plugin_id} not found")


async def answered_here(runtime: ChatRuntime, model_id: Any) -> bool:
    """Whether pipehouse answers chats for this model (perhaps behind a connection's prefix),
    and so runs its filters itself."""
    if not isinstance(model_id, str) or not model_id:
        return False
    listed = None
    for name in _unprefixed(model_id):
        entry = runtime.catalog.get(name)
        if entry is not None and entry.answers_chats and not entry.info.is_manifold:
            return True
        listed = listed or {model.get("id") for model in await runtime.models()}
        if name in listed:
            return True
    return False


def acting_user(principal: Principal, posted: dict[str, Any] | None) -> dict[str, Any]:
    """Whose chat a hook sees. Open WebUI names its user in the form; that is believed from an
    admin's key (a connection's key is an admin's, since its Pipelines page needs one). Any
    other key acts for itself: a key must not speak for another user."""
    posted_id = posted.get("id") if isinstance(posted, dict) else None
    if principal.is_admin and isinstance(posted_id, str) and posted_id:
        assert isinstance(posted, dict)  # the id came from it
        return dunder_user(
            posted_id,
            email=str(posted.get("email") or ""),
            name=str(posted.get("name") or ""),
            role=str(posted.get("role") or "user"),
        )
    return principal.user


def hook_error(request: Request, error: PluginError) -> JSONResponse:
    """A failing hook as the Pipelines server answers it, `{"detail": message}` (the
    filter's own words), with pipehouse's usual status (400 for a refused inlet) and `error`
    naming the plugin and the stage. Open WebUI 0.12.4 reads the body too late and shows only
    "Bad Request" (docs/open-webui-trial.md); other callers get the words."""
    return plugin_error_response(request, error, plain_detail=True)


async def run_hook(
    request: Request, plugin_id: str, hook: str, form: FilterForm, principal: Principal
) -> Response:
    """One filter hook on one chat payload; answers the payload as the hook left it."""
    state = request.app.state
    runtime: ChatRuntime = state.runtime
    entry = hook_owner(runtime.catalog, plugin_id)
    body = form.body
    info = entry.info
    runs_here = entry.active and hook in info.hooks
    if not runs_here or await answered_here(runtime, body.get("model")):
        return JSONAnswer(body)
    user = acting_user(principal, form.user)
    given = body.get("metadata")
    model = given.get("model") if isinstance(given, dict) else None
    if not isinstance(model, dict):
        model = {"id": body.get("model"), "name": body.get("model")}
    metadata = build_metadata(body, user, model)
    host = state.events.host(user["id"], metadata["chat_id"], metadata["message_id"])
    call = await runtime.call_context(info, user, metadata, host, model, {"request": request})
    try:
        result = await runtime.executor.call_filter(info.id, hook, body, call)
    except PluginError as error:
        error = await redacted(request, error)
        log.warning("filter %s %s failed: %s", info.id, hook, error)
        return hook_error(request, error)
    if not isinstance(result, dict):
        return hook_error(
            request,
            PluginError(
                plugin_id=info.id,
                path=info.path,
                stage=hook,
                error_type="BadFilterResult",
                message=f"{hook}() returned {type(result).__name__}, not the body",
            ),
        )
    return JSONAnswer(result)


@router.post("/{plugin_id}/filter/inlet")
@router.post("/v1/{plugin_id}/filter/inlet", include_in_schema=False)
async def filter_inlet(
    request: Request, plugin_id: PathId, form: FilterForm, user: Principal = Depends(current_user)
) -> Response:
    """Run one filter's inlet on `{"body", "user"}` and answer the body it returns; the body
    unchanged for a model pipehouse answers itself, or a plugin without an inlet."""
    return await run_hook(request, plugin_id, "inlet", form, user)


@router.post("/{plugin_id}/filter/outlet")
@router.post("/v1/{plugin_id}/filter/outlet", include_in_schema=False)
async def filter_outlet(
    request: Request, plugin_id: PathId, form: FilterForm, user: Principal = Depends(current_user)
) -> Response:
    """Run one filter's outlet on `{"body", "user"}`, as `/filter/inlet` does its inlet."""
    return await run_hook(request, plugin_id, "outlet", form, user)


# -- valves -----------------------------------------------------------------------------------
async def plugin_row(plugins: PluginService, plugin_id: str) -> tuple[PluginTable, Function | Tool]:
    """The stored plugin and its table (functions and tools share one id space)."""
    for kind in PluginTable:
        try:
            return kind, await plugins.get(kind, plugin_id)
        except ServiceError as error:
            if error.status != 404:
                raise
    raise ServiceError(404, f"Pipeline {plugin_id} not found")


def loaded_info(request: Request, plugin_id: str) -> PluginInfo:
    entry = request.app.state.catalog.get(plugin_id)
    if entry is None:
        raise ServiceError(
            503, f"'{plugin_id}' is not loaded; GET /api/v1/plugins shows why (admins)"
        )
    return entry.info


def current_valves(
    plugins: PluginService, info: PluginInfo, stored: dict[str, Any] | None
) -> dict[str, Any]:
    """Every field's value, defaults included (Open WebUI's form reads every field, and
    splits list fields itself), secrets masked."""
    return plugins.valves_forms.masked(info.id, {**(info.valves_defaults or {}), **(stored or {})})


def _valves_info(request: Request, plugin_id: str) -> PluginInfo:
    info = loaded_info(request, plugin_id)
    if not info.has_valves:
        raise ServiceError(404, f"'{plugin_id}' has no Valves class")
    return info


@router.get("/{plugin_id}/valves")
@router.get("/v1/{plugin_id}/valves", include_in_schema=False)
async def get_valves(
    request: Request, plugin_id: PathId, admin: Principal = Depends(admin_user)
) -> Response:
    """The plugin's valves, every field, secrets as `********`."""
    plugins = _service(request)
    try:
        _, row = await plugin_row(plugins, plugin_id)
        return JSONAnswer(current_valves(plugins, _valves_info(request, plugin_id), row.valves))
    except ServiceError as error:
        return readable(error)


@router.get("/{plugin_id}/valves/spec")
@router.get("/v1/{plugin_id}/valves/spec", include_in_schema=False)
async def get_valves_spec(
    request: Request, plugin_id: PathId, user: Principal = Depends(admin_user)
) -> Response:
    """The JSON Schema of the plugin's Valves, from which Open WebUI draws the form."""
    plugins = _service(request)
    try:
        kind, _ = await plugin_row(plugins, plugin_id)
        _valves_info(request, plugin_id)
        schema = await plugins.valves_forms.valves_schema(
            kind, plugin_id, user=False, for_user=user.user
        )
        return JSONAnswer(schema)
    except ServiceError as error:
        return readable(error)


@router.post("/{plugin_id}/valves/update")
@router.post("/v1/{plugin_id}/valves/update", include_in_schema=False)
async def update_valves(
    request: Request,
    plugin_id: PathId,
    form: dict[str, Any],
    admin: Principal = Depends(admin_user),
) -> Response:
    """Validate and store the posted valves (Open WebUI posts every field; `null` means the
    default, a posted `********` keeps the stored secret); answer them as `GET` does. Invalid
    values: 400, nothing stored, one entry per field under `errors`."""
    plugins = _service(request)
    try:
        kind, _ = await plugin_row(plugins, plugin_id)
        info = _valves_info(request, plugin_id)
        if info.kind is PluginKind.PIPELINE:
            # A Pipelines plugin keeps one valves object, updated from what is stored; a field
            # no longer stored would keep its last value there, so "default" is stored as the
            # value the plugin started with.
            initial = info.valves_defaults or {}
            form = {k: initial.get(k) if v is None else v for k, v in form.items()}
        stored = await plugins.valves_forms.set_valves(kind, plugin_id, form)
        return JSONAnswer(current_valves(plugins, info, stored))
    except ServiceError as error:
        return readable(error)


# -- management -------------------------------------------------------------------------------
class AddForm(BaseModel):
    url: str


class DeleteForm(BaseModel):
    id: str = Field(min_length=1, max_length=MAX_ID_LENGTH)


def listed_type(info: PluginInfo) -> str:
    if info.kind is PluginKind.PIPELINE:
        return info.pipeline_type or "pipe"
    return info.kind.value


@router.get("/pipelines")
@router.get("/v1/pipelines", include_in_schema=False)
async def list_pipelines(request: Request, _: Principal = Depends(admin_user)) -> dict[str, Any]:
    """Every loaded plugin, Pipelines-format or not, as `{id, name, type, valves}`: Open WebUI's
    Pipelines page edits the valves of each (manifolds are one row, not one per model)."""
    catalog: Catalog = request.app.state.catalog
    rows = [
        {
            "id": e.info.id,
            "name": e.info.name,
            "type": listed_type(e.info),
            "valves": e.info.has_valves,
        }
        for e in sorted(catalog, key=lambda e: e.info.id)
    ]
    return {"data": rows}


async def install(
    request: Request, file_name: str, content: str, user: Principal, origin: str
) -> Response:
    """Store a plugin file like a function created through the API, under the id its file name
    gives (a new upload of the same name replaces the code). Unlike a function created through
    the API it starts active and global, as a file added to a Pipelines server is live at once.
    Code that does not load is refused with the line that is wrong."""
    plugins = _service(request)
    plugin_id = plugin_id_from_path(file_name)
    try:
        try:
            await plugins.get(PluginTable.FUNCTION, plugin_id)
            create = False
        except ServiceError as error:
            if error.status != 404:
                raise
            create = True
        await plugins.save(
            PluginTable.FUNCTION,
            plugin_id,
            name=plugin_id,
            content=content,
            meta={"description": f"installed through the Pipelines API from {origin}"},
            user_id=user.id,
            message=f"Pipelines API: {origin}",
            create=create,
            pipeline_files=True,
        )
        if create:
            await plugins.set_flags(plugin_id, is_active=True, is_global=True)
    except ServiceError as error:
        return readable(error)
    log.info("installed %s from %s through the Pipelines API", plugin_id, origin)
    verb = "added" if create else "updated"
    return JSONAnswer({"status": True, "id": plugin_id, "detail": f"Pipeline {plugin_id} {verb}"})


@router.post("/pipelines/add")
@router.post("/v1/pipelines/add", include_in_schema=False)
async def add_pipeline(
    request: Request, form: AddForm, user: Principal = Depends(admin_user)
) -> Response:
    """Download a `.py` file (a GitHub file page works too) and install it. At most 1 MiB
    and 30 s; only http(s)."""
    try:
        file_name, content = await download(form.url)
    except ServiceError as error:
        return readable(error)
    return await install(request, file_name, content, user, form.url)


@router.post("/pipelines/upload", openapi_extra=UPLOAD_FORM)
@router.post("/v1/pipelines/upload", include_in_schema=False)
async def upload_pipeline(request: Request, user: Principal = Depends(admin_user)) -> Response:
    """Install the `.py` file of a multipart form's `file` field (at most 1 MiB)."""
    try:
        file_name, content = await read_upload(request)
    except ServiceError as error:
        return readable(error)
    return await install(request, file_name, content, user, file_name)


@router.delete("/pipelines/delete")
@router.delete("/v1/pipelines/delete", include_in_schema=False)
async def delete_pipeline(
    request: Request, form: DeleteForm, admin: Principal = Depends(admin_user)
) -> Response:
    """Remove a plugin stored through an API; a directory plugin answers 403 (remove its
    file instead)."""
    plugins = _service(request)
    try:
        kind, _ = await plugin_row(plugins, form.id)
        if not await plugins.delete(kind, form.id):
            raise ServiceError(404, NOT_FOUND)
    except ServiceError as error:
        return readable(error)
    log.info("deleted %s through the Pipelines API", form.id)
    return JSONAnswer({"status": True, "id": form.id, "detail": f"Pipeline {form.id} deleted"})


@router.post("/pipelines/reload")
@router.post("/v1/pipelines/reload", include_in_schema=False)
async def reload_pipelines(request: Request, _: Principal = Depends(admin_user)) -> Response:
    """Read every plugin again (see `PluginService.rescan`) and list manifolds' models anew;
    answers which plugins do not load, and why."""
    plugins = _service(request)
    await plugins.rescan()
    request.app.state.runtime.forget_models()
    failed = [
        {"id": row["id"], "error": row.get("error")}
        for row in plugins.overview()
        if row.get("state") == "error"
    ]
    return JSONAnswer(
        {"status": True, "message": "Pipelines reloaded successfully.", "failed": failed}
    )
