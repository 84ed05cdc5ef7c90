"""The chat runtime: serves chat completions from the plugins in a catalog. `start` resolves
the model and runs the inlet filters; the returned `ChatTurn` (turn.py) does the rest. Where each
rule lives: request_rules.py (metadata, the body a pipe sees), resolution.py (models, routing),
filter_plan.py (which filters run, in order), turn.py (pipe, stream, outlets), accumulator.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any

from pipehouse.plugin.info import PluginInfo
from pipehouse.redaction import Redactor
from pipehouse.runtime.actions import ActionMenu
from pipehouse.runtime.catalog import Catalog, CommandLineValves, Entry, ValvesSource
from pipehouse.runtime.errors import RequestError
from pipehouse.runtime.event_channel import EventChannel
from pipehouse.runtime.events import Host, NullHost
from pipehouse.runtime.executor import CallContext, Executor
from pipehouse.runtime.filter_plan import FilterPlan, FilterPlanner
from pipehouse.runtime.request_rules import build_metadata
from pipehouse.runtime.resolution import ModelResolver, Source
from pipehouse.runtime.secrets import gather_redactor
from pipehouse.runtime.serving import serving
from pipehouse.runtime.turn import ChatTurn
from pipehouse.upstream.registry import UpstreamRegistry

MAX_DEPTH = 8  # model calls made from plugin code, nested
call_depth: ContextVar[int] = ContextVar("call_depth", default=0)


class ChatRuntime:
    """Serves chat completions from the plugins in a catalog, through an executor."""

    def __init__(
        self,
        executor: Executor,
        catalog: Catalog,
        store: ValvesSource | None = None,
        *,
        manifold_ttl: float = 60.0,
        upstreams: UpstreamRegistry | None = None,
        max_tool_rounds: int = 16,
        events: EventChannel | None = None,
    ) -> None:
        self.executor = executor
        self.catalog = catalog
        self.store = store or CommandLineValves()
        self.upstreams = upstreams
        self.max_tool_rounds = max_tool_rounds
        self.events = events  # where a request's events go when no host is given
        self.actions = ActionMenu(catalog, self.store)  # every model's `actions` list
        self.resolver = ModelResolver(
            catalog,
            executor,
            self.actions,
            upstreams,
            self.call_context,
            self.redactor,
            ttl=manifold_ttl,
        )
        self.planner = FilterPlanner(catalog, self.store)

    async def call_context(
        self,
        info: PluginInfo,
        user: dict[str, Any],
        metadata: dict[str, Any],
        host: Host,
        model: dict[str, Any] | None = None,
        request: dict[str, Any] | None = None,
    ) -> CallContext:
        """What one call of this plugin gets; stored valves are looked up only for a plugin
        that has a class to build them into. Hot: once per plugin call."""
        store = self.store
        return CallContext(
            user,
            metadata,
            host,
            await store.valves(info.id) if info.has_valves else None,
            await store.user_valves(info.id, user.get("id", "")) if info.has_user_valves else None,
            model,
            request,
        )

    async def redactor(self) -> Redactor:
        """What hides every secret value this server holds; built only when an error leaves."""
        return await gather_redactor(self.catalog, self.store, self.executor, self.upstreams)

    # -- models and filters (resolution.py, filter_plan.py) -----------------------------------
    def forget_models(self, plugin_id: str | None = None) -> None:
        """Drop cached manifold listings (after a reload or a valves change)."""
        self.resolver.forget(plugin_id)

    async def models(self) -> list[dict[str, Any]]:
        """Every model a client can pick (`ModelResolver.models`)."""
        return await self.resolver.models()

    async def resolve(self, model_id: object) -> tuple[Source, dict[str, Any]]:
        """What serves `model_id`: a pipe id, `manifold_id.sub_id`, or an upstream model (a
        400 when it is not a non-empty string)."""
        return await self.resolver.resolve(model_id)

    async def filters_for(
        self, model_id: str, filter_ids: list[str], pipe: Entry | None = None
    ) -> FilterPlan:
        """The filters a request for `model_id` runs (`FilterPlanner.plan`)."""
        return await self.planner.plan(model_id, filter_ids, pipe)

    # -- a chat turn --------------------------------------------------------------------------
    async def start(
        self,
        body: dict[str, Any],
        user: dict[str, Any],
        *,
        host: Host | None = None,
        request: dict[str, Any] | None = None,
        inline_events: bool = True,
        filters: bool = True,
    ) -> ChatTurn:
        """Resolve the model and run the inlet filters; errors here are the client's to see as
        a 4xx. The pipe itself runs when the turn is completed or streamed.

        `inline_events`: a stream also carries the plugins' events as `{"event": ...}` frames
        (Open WebUI reads them from upstream servers; plain OpenAI SDK loops do not expect
        frames without `choices`). Events always reach `host`. `filters=False` skips every
        filter (Open WebUI's `bypass_filter`)."""
        if not isinstance(body, dict):
            raise RequestError("the request body must be a JSON object")
        messages = body.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise RequestError("'messages' must be a list of message objects")
        source, model = await self.resolver.resolve(body.get("model"))
        body = dict(body)
        stream = bool(body.get("stream", False))
        metadata = build_metadata(body, user, model)
        body["metadata"] = metadata
        if host is None:
            host = (
                self.events.host(user.get("id", ""), metadata["chat_id"], metadata["message_id"])
                if self.events is not None
                else NullHost()
            )
        turn = ChatTurn(self, source, model, user, host, request, stream, inline_events)
        serving.set((self, user))
        body = await turn.run_inlets(body, filters)
        if turn.routed_by is not None and body.get("model") != model["id"]:
            await turn.follow_router(body.get("model"))
        turn.prepare(body)
        if turn.metadata.get("tool_ids"):
            await turn.prepare_tools()
        if stream and turn.upstream is not None:
            await turn.open_upstream()  # its refusal is still an HTTP error, not a stream frame
        return turn

    async def generate(
        self,
        body: dict[str, Any],
        user: dict[str, Any],
        *,
        host: Host | None = None,
        bypass_filter: bool = False,
    ) -> dict[str, Any] | AsyncIterator[bytes]:
        """Any model (a pipe or an upstream one) from inside plugin code, as Open WebUI's
        `generate_chat_completion`: a completion dict, or the SSE frames of a stream.

        A pipe that asks for its own model would recurse forever; past `MAX_DEPTH` nested
        calls the request is refused instead."""
        depth = call_depth.get()
        if depth >= MAX_DEPTH:
            raise RequestError(
                f"model calls nested more than {MAX_DEPTH} deep; is a pipe calling itself?"
            )
        token = call_depth.set(depth + 1)
        # `start` serves the inner call as `user`; the caller's later calls are its own again.
        outer = serving.set(serving.get())
        try:
            turn = await self.start(
                body, user, host=host, inline_events=False, filters=not bypass_filter
            )
            if turn.stream:
                return turn.sse()
            return await turn.complete()
        finally:
            serving.reset(outer)
            call_depth.reset(token)
