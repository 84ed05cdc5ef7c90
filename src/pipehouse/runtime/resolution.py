"""Which models exist and what serves each: pipes and manifolds' sub-models (their listings
cached), upstream models, and the model an inlet filter routes a request to."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.kinds import PluginKind
from pipehouse.redaction import Redactor
from pipehouse.runtime.actions import ActionMenu
from pipehouse.runtime.catalog import Catalog, Entry
from pipehouse.runtime.errors import ModelNotFound, RequestError, RoutedModelNotFound
from pipehouse.runtime.events import NullHost
from pipehouse.runtime.executor import CallContext, Executor
from pipehouse.upstream.registry import UpstreamModel, UpstreamRegistry

log = logging.getLogger(__name__)

Source = Entry | UpstreamModel  # what answers a model: a pipe or an upstream connection's model


class ModelResolver:
    """Lists the models a client can pick and finds what serves one."""

    def __init__(
        self,
        catalog: Catalog,
        executor: Executor,
        actions: ActionMenu,
        upstreams: UpstreamRegistry | None,
        call_context: Callable[..., Awaitable[CallContext]],  # ChatRuntime.call_context
        redactor: Callable[[], Awaitable[Redactor]],
        ttl: float = 60.0,
    ) -> None:
        self.catalog = catalog
        self.executor = executor
        self.actions = actions
        self.upstreams = upstreams
        self.call_context = call_context
        self.redactor = redactor
        self.ttl = ttl
        self._manifolds: dict[str, tuple[float, str, list[dict[str, Any]]]] = {}

    def forget(self, plugin_id: str | None = None) -> None:
        """Drop cached manifold listings (after a reload or a valves change)."""
        if plugin_id is None:
            self._manifolds.clear()
        else:
            self._manifolds.pop(plugin_id, None)

    async def _sub_models(self, entry: Entry, *, refresh: bool = False) -> list[dict[str, Any]]:
        cached = self._manifolds.get(entry.info.id)
        now = time.monotonic()
        if cached and not refresh and cached[0] > now and cached[1] == entry.info.content_hash:
            return cached[2]
        call = await self.call_context(entry.info, {}, {}, NullHost())
        try:
            models = await self.executor.models(entry.info.id, call)
        except PluginError as exc:
            exc = (await self.redactor()).error(exc)
            log.error("manifold %s could not list its models: %s", entry.info.id, exc)
            models = cached[2] if cached else []
        self._manifolds[entry.info.id] = (now + self.ttl, entry.info.content_hash, models)
        return models

    def _toggle_filters(self) -> list[dict[str, Any]]:
        return sorted(
            (
                {
                    "id": e.info.id,
                    "name": e.info.name,
                    "description": e.info.description,
                    "icon": e.info.icon,
                    "has_user_valves": e.info.has_user_valves,
                }
                for e in self.catalog.filters()
                if e.info.toggle
            ),
            key=lambda f: f["id"],
        )

    def _model_entry(self, entry: Entry, model_id: str, name: str) -> dict[str, Any]:
        info = entry.info
        model = {
            "id": model_id,
            "name": name,
            "object": "model",
            "created": entry.created_at,
            "owned_by": "openai",
            # No `"pipe": {"type": "pipe"}` as Open WebUI lists its own pipes: an Open WebUI
            # that reads this listing would take every model for one of its own Functions.
            "has_user_valves": info.has_user_valves,
        }
        if info.kind is PluginKind.PIPELINE:
            model["pipeline"] = {"type": info.pipeline_type, "valves": info.has_valves}
        return model

    async def models(self) -> list[dict[str, Any]]:
        """Every model a client can pick: pipes as Open WebUI lists them, then the models of
        the upstream connections (a pipe's id wins over an upstream model's)."""
        models = []
        filters = self._toggle_filters()
        actions = await self.actions.items()
        for entry in self.catalog.pipes():
            if entry.info.is_manifold:
                for sub in await self._sub_models(entry):
                    models.append(self._model_entry(entry, sub["id"], sub["name"]))
            else:
                models.append(self._model_entry(entry, entry.info.id, entry.info.name))
        if self.upstreams is not None:
            taken = {m["id"] for m in models}
            models += [m for m in await self.upstreams.models() if m["id"] not in taken]
        for model in models:
            model["filters"] = filters
            model["actions"] = actions
        return models

    async def resolve(self, model_id: object) -> tuple[Source, dict[str, Any]]:
        """What serves `model_id`: a pipe id, `manifold_id.sub_id`, or an upstream model (a
        400 when it is not a non-empty string)."""
        if not isinstance(model_id, str) or not model_id:
            raise RequestError("'model' must be a non-empty string")
        entry = self.catalog.get(model_id)
        if entry is not None and entry.answers_chats and not entry.info.is_manifold:
            return entry, self._model_entry(entry, model_id, entry.info.name)
        plugin_id, dot, _ = model_id.partition(".")
        entry = self.catalog.get(plugin_id) if dot else None
        if entry is not None and entry.info.is_manifold and entry.answers_chats:
            for refresh in (False, True):
                for sub in await self._sub_models(entry, refresh=refresh):
                    if sub["id"] == model_id:
                        return entry, self._model_entry(entry, model_id, sub["name"])
        upstream = await self.upstreams.find(model_id) if self.upstreams is not None else None
        if upstream is None:
            raise ModelNotFound(model_id)
        return upstream, upstream.model

    async def resolve_routed(self, model_id: Any, router: str) -> tuple[Source, dict[str, Any]]:
        """The model an inlet filter (`router`) put in `body["model"]`. Open WebUI looks the
        model up again after the inlets (open_webui/utils/chat.py, `generate_chat_completion`,
        0.12.4) but keeps the filters it chose for the requested model, for every hook
        (open_webui/utils/middleware.py, `process_chat_payload` and the response handlers pass
        the requested model to `get_filter_functions`). So the turn that follows it runs each
        filter once, the new model's own filters and Pipelines hooks do not run, and `__model__`
        and the outlet body keep naming the requested model."""
        try:
            return await self.resolve(model_id)
        except RequestError:  # unknown, or not a model id at all
            raise RoutedModelNotFound(model_id, router) from None
