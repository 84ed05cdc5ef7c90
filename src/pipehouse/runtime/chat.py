"""One chat request through the plugins: resolve the model, inlet filters, the pipe, stream
filters, OpenAI encoding with events in-band, outlet filters (docs/architecture.md, "A request's
path").

Streaming uses one producer task (the pipe and the stream filters) and the response generator as
consumer, sharing one buffer. Events a plugin emits land in the same buffer, so they reach the
client in order and at once, even while the pipe is still awaiting something. The consumer
drains whatever has accumulated into a single write: a fast pipe costs one send per batch, not
one per chunk, and the producer pauses when the client reads slowly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind
from pipehouse.redaction import Redactor
from pipehouse.runtime.actions import ActionMenu
from pipehouse.runtime.catalog import Catalog, CommandLineValves, Entry, ValvesSource
from pipehouse.runtime.encoding import (
    DONE,
    ChunkEncoder,
    error_body,
    frame,
)
from pipehouse.runtime.errors import ModelNotFound, RequestError, RoutedModelNotFound
from pipehouse.runtime.event_channel import EventChannel
from pipehouse.runtime.events import Host, NullHost
from pipehouse.runtime.executor import CallContext, Executor, PipeResult
from pipehouse.runtime.ids import unique_uuid
from pipehouse.runtime.items import Item
from pipehouse.runtime.secrets import gather_redactor
from pipehouse.runtime.tool_loop import complete_with_tools, stream_with_tools
from pipehouse.runtime.tools import ToolSet
from pipehouse.upstream.client import UpstreamError
from pipehouse.upstream.registry import UpstreamModel, UpstreamRegistry

log = logging.getLogger(__name__)

# Keys Open WebUI takes out of the body before a pipe sees it (Open WebUI 0.12.4 functions.py).
REQUEST_ONLY_KEYS = frozenset(
    (
        "metadata",
        "variables",
        "features",
        "tool_ids",
        "terminal_id",
        "files",
        "folder_id",
        "skill_ids",
        "regeneration_prompt",
        "model_item",
        "background_tasks",
        "parent_id",
        "message_ids",
        "id",
        "user_message",
        "chat_id",
        "chat_variables",
        "tool_servers",
        "automation_id",
        "assistant_message_id",
        "regeneration_message_id",
        "session_id",
        "filter_ids",
    )
)
# `params` is flattened into the body without these, which only Open WebUI itself reads.
WEBUI_ONLY_PARAMS = (
    "stream_response",
    "stream_delta_chunk_size",
    "function_calling",
    "reasoning_tags",
    "compact_token_threshold",
    "system",
    "note_id",
    "tool_approval_mode",
    "model_controls",
)
HIGH_WATER = 256
_END = object()
MAX_DEPTH = 8  # model calls made from plugin code, nested

# The runtime and user of the request being served, for host calls from plugin code
# (`pipehouse.host`).
serving: ContextVar[tuple[ChatRuntime, dict[str, Any]] | None] = ContextVar("serving", default=None)
call_depth: ContextVar[int] = ContextVar("call_depth", default=0)


@contextlib.contextmanager
def serving_as(runtime: ChatRuntime, user: dict[str, Any]) -> Iterator[None]:
    """Host calls made inside the block run for `user`; the previous user comes back after."""
    token = serving.set((runtime, user))
    try:
        yield
    finally:
        serving.reset(token)


class FilterPlan:
    """A request's active filters and, per hook, the chain that runs it, in order. A Pipelines
    model's own hooks run as the Pipelines server's part of the chain: its inlet after the
    Pipelines filters, its outlet before them (the Pipelines server's main.py; docs/pipelines.md);
    Functions filters
    follow either way. Made once per model and `filter_ids`, not per request."""

    __slots__ = ("filters", "handles_files", "inlet", "outlet", "stream")

    def __init__(self, filters: list[Entry], pipe: Entry | None = None) -> None:
        self.filters = filters
        self.inlet = self._chain("inlet", pipe)
        self.outlet = self._chain("outlet", pipe)
        self.stream = [e for e in filters if "stream" in e.info.hooks]
        self.handles_files = any(e.info.file_handler for e in self.inlet)

    def _chain(self, hook: str, pipe: Entry | None) -> list[Entry]:
        chain = [e for e in self.filters if hook in e.info.hooks]
        if pipe is not None and pipe.info.kind is PluginKind.PIPELINE and hook in pipe.info.hooks:
            pipelines = sum(1 for e in chain if e.info.kind is PluginKind.PIPELINE)
            chain.insert(pipelines if hook == "inlet" else 0, pipe)
        return chain


NO_FILTERS = FilterPlan([])


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
        self.manifold_ttl = manifold_ttl
        self._manifolds: dict[str, tuple[float, str, list[dict[str, Any]]]] = {}
        self._plans: dict[tuple[str, tuple[str, ...]], tuple[tuple[int, int], FilterPlan]] = {}
        self.actions = ActionMenu(catalog, self.store)  # every model's `actions` list

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

    # -- models -------------------------------------------------------------------------------
    def forget_models(self, plugin_id: str | None = None) -> None:
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
        self._manifolds[entry.info.id] = (now + self.manifold_ttl, entry.info.content_hash, models)
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

    async def resolve(self, model_id: str) -> tuple[Entry | UpstreamModel, dict[str, Any]]:
        """What serves `model_id`: a pipe id, `manifold_id.sub_id`, or an upstream model."""
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

    # -- filters ------------------------------------------------------------------------------
    async def _priority(self, entry: Entry) -> int:
        stored = await self.store.valves(entry.info.id) or {}
        value = stored.get("priority", entry.info.default_priority)
        return value if isinstance(value, int) else 0

    async def filters_for(
        self, model_id: str, filter_ids: list[str], pipe: Entry | None = None
    ) -> FilterPlan:
        """Active filters for this request, ordered as Open WebUI orders them: Pipelines-format
        filters first (Open WebUI calls the Pipelines server before its own functions), each
        group by (priority, id), with the chain each hook runs (`FilterPlan`). `pipe` is the
        entry serving `model_id`, when a plugin does.

        Toggle filters run only when the request names them in `filter_ids`; Pipelines-format
        filters run for the models their `pipelines` valve targets ("*" for all).

        The plan is kept until the catalog or the stored valves change, when the store says
        when that is (a `version`); stores without one are asked every time.
        """
        store_version = getattr(self.store, "version", None)
        if store_version is None:
            return FilterPlan(await self._plan_filters(model_id, filter_ids), pipe)
        key = (model_id, tuple(filter_ids))
        versions = (self.catalog.version, store_version)
        cached = self._plans.get(key)
        if cached is None or cached[0] != versions:
            if len(self._plans) > 4096:  # many distinct filter_ids: start over
                self._plans.clear()
            plan = FilterPlan(await self._plan_filters(model_id, filter_ids), pipe)
            cached = self._plans[key] = (versions, plan)
        return cached[1]

    async def _plan_filters(self, model_id: str, filter_ids: list[str]) -> list[Entry]:
        chosen = []
        for entry in self.catalog.filters():
            info = entry.info
            if not entry.is_global:
                continue
            if info.toggle and info.id not in filter_ids:
                continue
            if info.kind is PluginKind.PIPELINE:
                stored = await self.store.valves(info.id) or {}
                targets = stored.get("pipelines", (info.valves_defaults or {}).get("pipelines", []))
                if "*" not in (targets or []) and model_id not in (targets or []):
                    continue
            chosen.append(entry)
        priorities = {e.info.id: await self._priority(e) for e in chosen}

        def order(entry: Entry) -> tuple[bool, int, str]:
            return (
                entry.info.kind is not PluginKind.PIPELINE,
                priorities[entry.info.id],
                entry.info.id,
            )

        return sorted(chosen, key=order)

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
        source, model = await self.resolve(body.get("model"))
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


_REQUEST_KEY_TYPES = {
    "filter_ids": (list, "a list of filter ids"),
    "tool_ids": (list, "a list of tool ids"),
    "files": (list, "a list of file objects"),
    "features": (dict, "an object"),
    "variables": (dict, "an object"),
    "params": (dict, "an object"),
}
_TYPED_KEYS = frozenset(_REQUEST_KEY_TYPES)


def _expect(value: Any, kind: type, key: str, label: str) -> None:
    if not isinstance(value, kind):
        raise RequestError(f"'{key}' must be {label}, not {type(value).__name__}")


def build_metadata(
    body: dict[str, Any], user: dict[str, Any], model: dict[str, Any]
) -> dict[str, Any]:
    """The chat metadata Open WebUI builds, from what an API client can send: top-level ids and
    a `metadata` object (chat_id, message_id, session_id, files, task, ...)."""
    given = body.get("metadata")
    if given is None:
        given = {}
    _expect(given, dict, "metadata", "an object")
    for source, prefix in ((body, ""), (given, "metadata.")):
        if _TYPED_KEYS.isdisjoint(source):  # most requests: nothing to check
            continue
        for key in _REQUEST_KEY_TYPES.keys() & source.keys():
            if source[key] is not None:
                kind, label = _REQUEST_KEY_TYPES[key]
                _expect(source[key], kind, prefix + key, label)
    top, inner = body.get, given.get
    return {
        **given,
        "user_id": user.get("id"),
        "chat_id": top("chat_id") or inner("chat_id"),
        "message_id": top("id") or inner("message_id") or unique_uuid(),
        "session_id": top("session_id") or inner("session_id"),
        "filter_ids": list(top("filter_ids") or inner("filter_ids") or ()),
        "tool_ids": top("tool_ids", inner("tool_ids")),
        "files": top("files", inner("files")),
        "features": top("features", inner("features", {})),
        "variables": top("variables", inner("variables", {})),
        "model": model,
        "direct": False,
        "params": {"function_calling": "native", **(inner("params") or {})},
        "task": inner("task"),
        "task_body": inner("task_body"),
    }


class _TurnHost:
    """Events of one turn: in-band on a stream (through the turn's buffer) and to the outer host."""

    def __init__(self, outer: Host, buffer: deque[Any] | None, wake: asyncio.Event | None) -> None:
        self.outer = outer
        self._buffer = buffer
        self._wake = wake

    async def emit(self, event: dict[str, Any]) -> None:
        if self._buffer is not None and self._wake is not None:
            self._buffer.append({"event": event})
            self._wake.set()
        await self.outer.emit(event)

    async def call(self, event: dict[str, Any]) -> Any:
        return await self.outer.call(event)


class ChatTurn:
    """A request after its inlet filters: completes to a dict, or streams SSE bytes."""

    def __init__(
        self,
        runtime: ChatRuntime,
        source: Entry | UpstreamModel,
        model: dict[str, Any],
        user: dict[str, Any],
        host: Host,
        request: dict[str, Any] | None,
        stream: bool,
        inline_events: bool = True,
    ) -> None:
        self.runtime = runtime
        self.inline_events = stream and inline_events
        self._answer_with(source, model)
        self.routed_by: str | None = None  # the inlet filter that changed `body["model"]`
        self._opened: PipeResult | None = None
        self.tools: ToolSet | None = None
        self.model = model
        self.user = user
        self.stream = stream
        self.request = request
        if stream:  # the producer/consumer machinery of `sse()`
            self._buffer: deque[Any] = deque()
            self._ready = asyncio.Event()
            self._room = asyncio.Event()
        if self.inline_events:
            self.host = _TurnHost(host, self._buffer, self._ready)
        else:
            self.host = _TurnHost(host, None, None)
        self.plan = NO_FILTERS
        self.metadata: dict[str, Any] = {}
        self.body: dict[str, Any] = {}
        self.include_usage = False
        self.error: PluginError | UpstreamError | None = None  # why a stream ended early
        self.kept_files: list[Any] | None = None  # __files__ after a file_handler (docs/files.md)
        # told the final answer (after outlets) when the turn ends well: the chat store's hook
        self.on_finished: Callable[[ChatTurn, str], Awaitable[None]] | None = None

    def _answer_with(self, source: Entry | UpstreamModel, model: dict[str, Any]) -> None:
        """Who answers: a pipe or an upstream model, the model its chunks name and its
        `__model__`. `self.model` stays the model the client asked for, which the filters see."""
        self.pipe = source if isinstance(source, Entry) else None
        self.upstream = source if isinstance(source, UpstreamModel) else None
        # who answers, as errors and logs name it
        if isinstance(source, Entry):
            self.source_id = source.info.id
        else:
            self.source_id = f"upstream:{source.client.connection.id}"
        self.answering = model
        self.encoder = ChunkEncoder(model["id"])

    async def follow_router(self, model_id: Any) -> None:
        """An inlet filter changed `body["model"]`: that model answers. Open WebUI looks the
        model up again after the inlets (open_webui/utils/chat.py, `generate_chat_completion`,
        0.12.4) but keeps the filters it chose for the requested model, for every hook
        (open_webui/utils/middleware.py, `process_chat_payload` and the response handlers pass
        the requested model to `get_filter_functions`). So here: each filter still runs once,
        the new model's own filters and Pipelines hooks do not run, and `__model__` and the
        outlet body keep naming the requested model."""
        try:
            source, model = await self.runtime.resolve(model_id)
        except RequestError:  # unknown, or not a model id at all
            raise RoutedModelNotFound(model_id, self.routed_by or "") from None
        self._answer_with(source, model)

    async def _call(
        self, info: PluginInfo, model: dict[str, Any] | None = None, **extra: Any
    ) -> CallContext:
        call = await self.runtime.call_context(
            info, self.user, self.metadata, self.host, model or self.model, self.request
        )
        if extra:
            call.extra.update(extra)
        if self.kept_files:
            call.extra["__files__"] = self.kept_files
        return call

    async def _run_filter(self, entry: Entry, hook: str, body: dict[str, Any]) -> dict[str, Any]:
        call = await self._call(entry.info)
        result = await self.runtime.executor.call_filter(entry.info.id, hook, body, call)
        if not isinstance(result, dict):
            raise PluginError(
                plugin_id=entry.info.id,
                path=entry.info.path,
                stage=hook,
                error_type="BadFilterResult",
                message=f"{hook}() returned {type(result).__name__}, not the body",
                hint=f"a filter's {hook}() must return the (modified) body dict",
            )
        return result

    async def run_inlets(self, body: dict[str, Any], filters: bool = True) -> dict[str, Any]:
        self.metadata = body["metadata"]
        if filters:
            filter_ids = self.metadata["filter_ids"]
            self.plan = await self.runtime.filters_for(self.model["id"], filter_ids, self.pipe)
        elif self.pipe is not None and self.pipe.info.kind is PluginKind.PIPELINE:
            self.plan = FilterPlan([], self.pipe)  # no filters, but the model's own hooks
        model_id = body.get("model")
        for entry in self.plan.inlet:
            body = await self._run_filter(entry, "inlet", body)
            if body.get("model") != model_id:  # a router: followed once all inlets ran
                model_id = body.get("model")
                self.routed_by = entry.info.id
        # Open WebUI drops the files once all inlets ran, so later inlets still see them.
        if self.plan.handles_files:
            if isinstance(body.get("metadata"), dict):
                self.kept_files = body["metadata"].pop("files", None)
            body.pop("files", None)
        return body

    def prepare(self, body: dict[str, Any]) -> None:
        """The body the pipe sees: request-only keys removed, `params` flattened."""
        metadata = body.get("metadata")
        if isinstance(metadata, dict):
            self.metadata = metadata
        params = body.pop("params", None)
        if isinstance(params, dict):
            body.update({k: v for k, v in params.items() if k not in WEBUI_ONLY_PARAMS})
        for key in body.keys() & REQUEST_ONLY_KEYS:
            del body[key]
        if self.pipe is not None and self.pipe.info.kind is PluginKind.PIPELINE:
            body["user"] = {k: self.user.get(k) for k in ("name", "id", "email", "role")}
        options = body.get("stream_options")
        self.include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        self.body = body

    async def prepare_tools(self) -> None:
        """The toolkits named in `tool_ids`: an upstream model gets them offered (native tool
        calling, run here), a pipe gets them as `__tools__`. A request that brings its own
        `tools` keeps them and gets none of these (Open WebUI 0.12.4's rule,
        utils/tools.py)."""
        if "tools" in self.body:
            return
        runtime = self.runtime
        self.tools = await ToolSet.build(
            self.metadata["tool_ids"],
            runtime.catalog,
            runtime.executor,
            self._call,
            messages=self.body.get("messages"),
        )
        self.tools.redactor = runtime.redactor
        if self.tools:
            self.metadata["tools"] = self.tools.as_dunder_tools()

    async def _call_pipe(self) -> PipeResult:
        if self._opened is not None:
            opened, self._opened = self._opened, None
            return opened
        if self.upstream is not None:
            return await self._call_upstream()
        call = await self._call(self.pipe.info, self.answering)
        return await self.runtime.executor.call_pipe(self.pipe.info.id, self.body, call)

    async def _call_upstream(self) -> PipeResult:
        """The upstream model with the body the filters left, under its own id."""
        body = {**self.body, "model": self.upstream.upstream_id}
        client = self.upstream.client
        tools, rounds = self.tools, self.runtime.max_tool_rounds
        if self.stream:
            if tools:
                return PipeResult(
                    stream=stream_with_tools(client.stream, body, tools, self.host, rounds)
                )
            return PipeResult(stream=client.stream(body))
        if tools:
            completion = await complete_with_tools(client.complete, body, tools, self.host, rounds)
            return PipeResult(value=completion)
        return PipeResult(value=await client.complete(body))

    async def open_upstream(self) -> None:
        """Send the streamed request and wait for its first chunk, so that an upstream that
        refuses it (unknown model, bad key, down) is answered with its HTTP status."""
        result = await self._call_upstream()
        stream = result.stream
        try:
            first = await anext(stream)
        except StopAsyncIteration:
            self._opened = PipeResult(stream=_nothing())
            return
        self._opened = PipeResult(stream=_prepend(first, stream))

    async def _run_outlets(self, content: str) -> str:
        """Outlet filters see the whole exchange; their edit of the answer is what's returned."""
        outlets = self.plan.outlet
        if not outlets:
            return content
        body = {
            "model": self.model["id"],
            "messages": [*self.body.get("messages", []), {"role": "assistant", "content": content}],
            "filter_ids": self.metadata.get("filter_ids", []),
            "chat_id": self.metadata.get("chat_id"),
            "session_id": self.metadata.get("session_id"),
            "id": self.metadata.get("message_id"),
        }
        body = await self.run_outlet_chain(body, outlets)
        messages = body.get("messages") or []
        last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
        new = last.get("content") if last.get("role") == "assistant" else None
        return new if isinstance(new, str) else content

    async def run_outlet_chain(
        self, body: dict[str, Any], outlets: list[Entry] | None = None, *, strict: bool = False
    ) -> dict[str, Any]:
        """`body` through the outlets (the turn's chain unless given); a failing one is logged
        and skipped, or with `strict` raised (for a caller that asked only for the outlets:
        `/api/chat/completed`)."""
        for entry in self.plan.outlet if outlets is None else outlets:
            try:
                body = await self._run_filter(entry, "outlet", body)
            except PluginError as exc:  # Open WebUI swallows outlet errors; say so, keep going
                if strict:
                    raise
                exc = (await self.runtime.redactor()).error(exc)
                log.error("outlet filter failed, answer left as it was: %s", exc)
        return body

    # -- non-streaming ------------------------------------------------------------------------
    async def complete(self) -> dict[str, Any]:
        """The whole answer as a `chat.completion` (or the dict a pipe returned, as-is)."""
        result = await self._call_pipe()
        if result.stream is None and type(result.value) is str:  # the usual answer
            return await self._completion(result.value)
        acc = _Accumulator(self.encoder)
        if result.stream is not None:
            parts = acc.parts
            async for item in result.stream:
                if type(item) is str:
                    parts.append(item)
                    continue
                if "error" in item and "choices" not in item:
                    _raise_reported_error(self, item)
                await acc.add(item, self.host)
        elif isinstance(result.value, dict):
            _raise_reported_error(self, result.value)
            return await self._as_is(result.value)
        elif result.value is not None:
            acc.add_value(result.value, self.source_id)
        return await self._completion(acc.text() if acc.has_content else None, acc)

    async def _completion(
        self, content: str | None, acc: _Accumulator | None = None
    ) -> dict[str, Any]:
        """The answer after the outlet filters, told to `on_finished`, as a `chat.completion`."""
        if content is not None or self.plan.filters:
            content = await self._run_outlets(content or "")
        if self.on_finished is not None:
            await self.on_finished(self, content or "")
        if acc is None:  # a plain string: no usage was reported, and none is made up
            return self.encoder.completion(content)
        return self.encoder.completion(
            content,
            reasoning=acc.reasoning(),
            tool_calls=acc.tool_calls(),
            finish_reason=acc.finish_reason,
            usage=acc.usage,  # only what the pipe or the upstream reported
        )

    async def _as_is(self, value: dict[str, Any]) -> dict[str, Any]:
        """A dict the pipe returned is its answer as-is (Open WebUI); when it is a completion,
        outlet filters may still edit its message."""
        choices = value.get("choices")
        first = choices[0] if isinstance(choices, list) and choices else None
        message = first.get("message") if isinstance(first, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("content"), str | None):
            return value
        content = message.get("content") or ""
        final = await self._run_outlets(content)
        if final != content:
            message["content"] = final
        if self.on_finished is not None:
            await self.on_finished(self, final)
        return value

    # -- streaming ----------------------------------------------------------------------------
    async def _frame(self, items: AsyncIterator[Item], as_chunks: bool) -> AsyncIterator[Any]:
        """Give every chunk this completion's id, and end with one finish chunk."""
        encoder = self.encoder
        finished = False
        async for item in items:
            if type(item) is str:
                yield encoder.text_chunk(item) if as_chunks else item
                continue
            choices = item.get("choices")
            if isinstance(choices, list):
                first = choices[0] if choices and isinstance(choices[0], dict) else {}
                if "message" in first and "delta" not in first:
                    item = _completion_to_chunk(item)
                    first = item["choices"][0]
                if _only_opens_the_message(item, first):
                    continue  # the stream already opened with pipehouse's own role chunk
                finished = finished or bool(first.get("finish_reason"))
                yield encoder.adopt(item)
            elif isinstance(item.get("event"), dict):
                await self.host.outer.emit(item["event"])
                if self.inline_events:
                    yield item
            elif "error" in item:
                _raise_reported_error(self, item)
            else:
                yield item
        if not finished:
            yield encoder.finish_chunk()

    async def _value_items(self, value: Any) -> AsyncIterator[Item]:
        if isinstance(value, str | dict):
            if value:
                yield value
        elif value is not None:
            log.warning(
                "pipe %s returned a %s; Open WebUI shows nothing for it",
                self.source_id,
                type(value).__name__,
            )

    async def _produce(self) -> None:
        # This task's own context: the turn's user, whoever iterates the stream (a plugin).
        serving.set((self.runtime, self.user))
        buffer, ready, room = self._buffer, self._ready, self._room
        result: PipeResult | None = None
        try:
            result = await self._call_pipe()
            items = result.stream if result.stream is not None else self._value_items(result.value)
            stream_filters = self.plan.stream
            framed = self._frame(items, as_chunks=bool(stream_filters))
            if stream_filters:
                calls = [await self._call(e.info, __body__=self.body) for e in stream_filters]
                framed = self.runtime.executor.filter_stream(
                    [e.info.id for e in stream_filters], framed, calls
                )
            async for item in framed:
                buffer.append(item)
                ready.set()
                if len(buffer) >= HIGH_WATER:
                    room.clear()
                    await room.wait()
        except (PluginError, UpstreamError) as exc:
            buffer.append(exc)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a bug of ours must still end the stream, never the server
            log.exception("stream of %s failed", self.source_id)
            buffer.append(
                PluginError.from_exception(exc, plugin_id=self.source_id, path=None, stage="stream")
            )
        finally:
            if result is not None and result.stream is not None:
                # Stopped early (a stream filter failed, the client left): stop the pipe too.
                with contextlib.suppress(Exception):
                    await result.stream.aclose()  # type: ignore[attr-defined]
            buffer.append(_END)
            ready.set()

    async def _reported(self, error: PluginError | UpstreamError) -> PluginError | UpstreamError:
        """A stream's error as it may leave: every secret hidden, and logged for the operator
        (the client has its frame; without a line here nobody else would know)."""
        redactor = await self.runtime.redactor()
        if isinstance(error, PluginError):
            error = redactor.error(error)
            log.warning("stream of %s failed: %s", self.source_id, error)
        else:
            error.message = redactor.text(error.message)
            log.warning("stream of %s failed: %s", self.source_id, error.message)
        return error

    async def sse(self) -> AsyncIterator[bytes]:
        """The answer as SSE frames; each yielded `bytes` holds every frame ready at that time."""
        buffer, ready, room = self._buffer, self._ready, self._room
        encoder = self.encoder
        acc = _Accumulator(encoder)
        text_parts = acc.parts
        producer = asyncio.create_task(self._produce())
        out = [frame(encoder.role_chunk())]
        error: PluginError | UpstreamError | None = None
        # Finish chunks wait for the end, so that every text (a pipe's late chunks, what
        # outlets append) reaches the client before them; a usage-only report waits too when
        # the client asked for usage, which then comes once, last.
        finishes: list[dict[str, Any]] = []
        usage_last = self.include_usage
        try:
            while True:
                ended = False
                while buffer:
                    item = buffer.popleft()
                    if type(item) is str:
                        text_parts.append(item)
                        out.append(encoder.text_frame(item))
                    elif type(item) is dict:
                        finishes_now = acc.add_chunk(item)
                        if usage_last and "usage" in item:  # reported once, last
                            if not item.get("choices"):
                                continue
                            item = {k: v for k, v in item.items() if k != "usage"}
                        if finishes_now:
                            ahead, finish = _split_finish(item)
                            if ahead is not None:
                                out.append(frame(ahead))
                            finishes.append(finish)
                        else:
                            out.append(frame(item))
                    elif item is _END:
                        ended = True
                        break
                    elif isinstance(item, PluginError | UpstreamError):
                        error = item
                    elif item:  # a stream filter may hand back any truthy value
                        out.append(frame(item))
                room.set()
                if out:
                    yield b"".join(out)
                    out = []
                if ended:
                    break
                ready.clear()
                if not buffer:
                    await ready.wait()
            if error is not None:
                self.error = error = await self._reported(error)
                yield frame(_stream_error(error)) + DONE
                return
            content = acc.text()
            with serving_as(self.runtime, self.user):
                final = await self._run_outlets(content)
            if final != content:
                # What outlets appended reaches every client as more text; any other edit can
                # only be told as a `replace` event (in-band when asked, and to the host).
                if final.startswith(content):
                    out.append(encoder.text_frame(final[len(content) :]))
                await self.host.emit({"type": "replace", "data": {"content": final}})
            if self.on_finished is not None:
                await self.on_finished(self, final)
            out.extend(frame(finish) for finish in finishes)
            if usage_last and acc.usage is not None:  # the last usage reported; none made up
                out.append(frame(encoder.usage_chunk(acc.usage)))
            while buffer:
                out.append(frame(buffer.popleft()))
            out.append(DONE)
            yield b"".join(out)
        finally:
            if not producer.done():
                producer.cancel()
                # Shielded: this task may be cancelled again while it waits (a response's
                # cancel scope repeats its cancellation), and cancelling a task that awaits the
                # producer would cancel the producer's own clean-up halfway through.
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.shield(producer)


def _raise_reported_error(turn: ChatTurn, value: dict[str, Any]) -> None:
    error = value.get("error")
    if error is None:
        return
    message = error.get("message") or error.get("detail") if isinstance(error, dict) else error
    raise PluginError(
        plugin_id=turn.source_id,
        path=turn.pipe.info.path if turn.pipe is not None else None,
        stage="pipe",
        error_type="PipeReportedError",
        message=str(message or error),
    )


def _only_opens_the_message(chunk: dict[str, Any], first: dict[str, Any]) -> bool:
    """A chunk that says nothing but `role: assistant` (what OpenAI-style servers send first):
    a second one after pipehouse's own opening chunk would be noise."""
    delta = first.get("delta")
    return (
        type(delta) is dict
        and delta.get("role") == "assistant"
        and not delta.get("content")
        and delta.keys() <= {"role", "content", "refusal"}
        and not first.get("finish_reason")
        and not chunk.get("usage")
    )


def _split_finish(chunk: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """A finish chunk that also carries a delta (text a stream filter added to it, a last
    token, tool calls) as two: that delta now, and a bare finish chunk to send last."""
    first = chunk["choices"][0]
    delta = first.get("delta")
    if not isinstance(delta, dict) or not any(v for k, v in delta.items() if k != "role"):
        return None, chunk
    ahead = {k: v for k, v in chunk.items() if k != "usage"}
    ahead["choices"] = [{**first, "finish_reason": None}]
    return ahead, {**chunk, "choices": [{**first, "delta": {}}]}


def _completion_to_chunk(completion: dict[str, Any]) -> dict[str, Any]:
    first = completion["choices"][0]
    message = first.get("message") or {}
    delta = {k: v for k, v in message.items() if v is not None}
    chunk = {k: v for k, v in completion.items() if k not in ("choices", "object")}
    chunk["object"] = "chat.completion.chunk"
    chunk["choices"] = [
        {"index": 0, "delta": delta, "logprobs": None, "finish_reason": first.get("finish_reason")}
    ]
    return chunk


def _stream_error(error: PluginError | UpstreamError) -> dict[str, Any]:
    if isinstance(error, UpstreamError):
        return error_body(
            error.message, type_="upstream_error", code=error.status, upstream=error.connection_id
        )
    return error_body(
        str(error.message),
        type_="plugin_error",
        code=error.error_type,
        plugin=error.plugin_id,
        stage=error.stage,
    )


class _Accumulator:
    """Collects an answer from items: text, reasoning, tool calls, finish reason, usage."""

    def __init__(self, encoder: ChunkEncoder) -> None:
        self.encoder = encoder
        self.parts: list[str] = []
        self._reasoning: list[str] = []
        self._tool_calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self._saw_object = False

    @property
    def has_content(self) -> bool:
        return bool(self.parts) or self._saw_object

    def text(self) -> str:
        return "".join(self.parts)

    def reasoning(self) -> str | None:
        return "".join(self._reasoning) or None

    def tool_calls(self) -> list[dict[str, Any]] | None:
        if not self._tool_calls:
            return None
        return [self._tool_calls[i] for i in sorted(self._tool_calls)]

    def add_chunk(self, chunk: dict[str, Any]) -> bool:
        """Take in one chunk; True when it finishes the answer (it has a `finish_reason`)."""
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = usage  # reported totals replace, never add up (Open WebUI sums them)
        choices = chunk.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return False
        self._saw_object = True
        first = choices[0]
        delta = first.get("delta")
        if type(delta) is dict and len(delta) == 1 and not first.get("finish_reason"):
            content = delta.get("content")  # the usual text chunk: nothing else to look at
            if type(content) is str:
                self.parts.append(content)
                return False
        finishes = bool(first.get("finish_reason"))
        if finishes:
            self.finish_reason = first["finish_reason"]
        delta = first.get("delta") or first.get("message") or {}
        content = delta.get("content")
        if content:
            self.parts.append(content if isinstance(content, str) else str(content))
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str):
            self._reasoning.append(reasoning)
        for call in delta.get("tool_calls") or []:
            self._merge_tool_call(call)
        return finishes

    def _merge_tool_call(self, call: dict[str, Any]) -> None:
        index = call.get("index", len(self._tool_calls))
        known = self._tool_calls.setdefault(
            index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if call.get("id"):
            known["id"] = call["id"]
        function = call.get("function") or {}
        if function.get("name"):
            known["function"]["name"] += function["name"]
        if function.get("arguments"):
            known["function"]["arguments"] += function["arguments"]

    async def add(self, item: Item, host: Host) -> None:
        if type(item) is str:
            self.parts.append(item)
        elif isinstance(item.get("event"), dict):
            await host.emit(item["event"])
        else:
            self.add_chunk(item)

    def add_value(self, value: Any, plugin_id: str) -> None:
        if isinstance(value, str):
            self.parts.append(value)
        elif isinstance(value, dict):
            self.add_chunk(value)
        else:
            log.warning(
                "pipe %s returned a %s; answered with no content", plugin_id, type(value).__name__
            )


async def _nothing() -> AsyncIterator[Item]:
    return
    yield


async def _prepend(first: Item, rest: AsyncIterator[Item]) -> AsyncIterator[Item]:
    try:
        yield first
        async for item in rest:
            yield item
    finally:
        await rest.aclose()  # type: ignore[attr-defined]
