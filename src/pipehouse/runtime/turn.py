"""(Over 500 lines: one concept, the turn; its streamed and whole answers share every step.)
A chat turn: a request after its inlet filters, through the pipe (or an upstream model),
the stream filters and the outlet filters, to a completion or SSE frames (docs/architecture.md,
"A request's path").

Streaming uses one producer task (the pipe and the stream filters) and the response generator as
consumer, sharing one buffer. Events a plugin emits land in the same buffer, so they reach the
client in order and at once, even while the pipe is still awaiting something. The consumer
drains whatever has accumulated into a single write: a fast pipe costs one send per batch, not
one per chunk, and the producer pauses when the client reads slowly. An upstream model's chunks
travel from the network to the buffer a read at a time, as lists (one step of each generator
per read, not per chunk); stream filters still see them one by one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind
from pipehouse.runtime.accumulator import Accumulator
from pipehouse.runtime.catalog import Entry
from pipehouse.runtime.encoding import DONE, ChunkEncoder, frame
from pipehouse.runtime.events import Host
from pipehouse.runtime.executor import CallContext, InletsThenPipe
from pipehouse.runtime.filter_plan import NO_FILTERS, FilterPlan
from pipehouse.runtime.items import Item
from pipehouse.runtime.request_rules import body_for_pipe, drop_files, filter_result
from pipehouse.runtime.serving import serving, serving_as
from pipehouse.runtime.stream_shapes import (
    completion_to_chunk,
    only_opens_the_message,
    split_finish,
    stream_error,
)
from pipehouse.runtime.tool_loop import complete_with_tools, stream_with_tools
from pipehouse.runtime.tools import ToolSet
from pipehouse.upstream.client import UpstreamError
from pipehouse.upstream.registry import UpstreamModel

if TYPE_CHECKING:
    from pipehouse.runtime.chat import ChatRuntime

log = logging.getLogger(__name__)

HIGH_WATER = 256
_END = object()
# What answers a turn as a stream: a pipe's items one by one or a worker's batch at a time
# (`PipeResult`), or an upstream model's chunks a network read at a time, as lists
# (`UpstreamClient.stream_batches`).
Batch = list[Item] | list[dict[str, Any]]
Source = AsyncIterator[Item | Batch]


@dataclass(slots=True)
class _Answer:
    """A pipe's or an upstream model's answer: one value, or a stream."""

    value: Any = None
    stream: Source | None = None
    error: BaseException | None = None  # raised when the answer is taken


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
        self._opened: _Answer | None = None
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
        """An inlet filter changed `body["model"]`: that model answers, the filters stay
        (`ModelResolver.resolve_routed` has Open WebUI's rule)."""
        source, model = await self.runtime.resolver.resolve_routed(model_id, self.routed_by or "")
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
        return filter_result(entry.info.id, entry.info.path, hook, result)

    async def run_inlets(self, body: dict[str, Any], filters: bool = True) -> dict[str, Any]:
        self.metadata = body["metadata"]
        if filters:
            filter_ids = self.metadata["filter_ids"]
            self.plan = await self.runtime.planner.plan(self.model["id"], filter_ids, self.pipe)
        elif self.pipe is not None and self.pipe.info.kind is PluginKind.PIPELINE:
            self.plan = FilterPlan([], self.pipe)  # no filters, but the model's own hooks
        fused = await self._inlets_then_pipe(body) if self._fusable() else None
        if fused is not None:
            body = fused.body
            if fused.routed_by is not None:
                self.routed_by = self.plan.inlet[fused.routed_by].info.id
        else:
            model_id = body.get("model")
            for entry in self.plan.inlet:
                body = await self._run_filter(entry, "inlet", body)
                if body.get("model") != model_id:  # a router: followed once all inlets ran
                    model_id = body.get("model")
                    self.routed_by = entry.info.id
        if self.plan.handles_files:
            self.kept_files = drop_files(body)
        return body

    def _fusable(self) -> bool:
        """A whole answer from a pipe after inlets that the executor can run in one call: one
        round trip to a worker instead of one per inlet and one for the pipe. Not a stream
        (its answer would be open before the client takes it), a Pipelines model (its own
        hooks) nor a request naming tools (prepared here between the inlets and the pipe)."""
        pipe = self.pipe
        return (
            not self.stream
            and pipe is not None
            and bool(self.plan.inlet)
            and pipe.info.kind is not PluginKind.PIPELINE
            and not self.metadata.get("tool_ids")
            and self.runtime.executor.fusable([*(e.info.id for e in self.plan.inlet), pipe.info.id])
        )

    async def _inlets_then_pipe(self, body: dict[str, Any]) -> InletsThenPipe | None:
        """The inlets and then the pipe, in one call; the pipe's answer (or error) waits in
        `_opened` for `complete`. The worker applies this turn's rules between them: it stops
        before the pipe where an inlet routed the request or named tools."""
        assert self.pipe is not None  # `_fusable`
        inlets = [(e.info.id, await self._call(e.info)) for e in self.plan.inlet]
        pipe = (self.pipe.info.id, await self._call(self.pipe.info, self.answering))
        fused = await self.runtime.executor.call_inlets_then_pipe(
            inlets, body, pipe, handles_files=self.plan.handles_files
        )
        if fused is not None and fused.answer is not None:
            self._opened = _Answer(fused.answer.value, fused.answer.stream)
        elif fused is not None and fused.error is not None:
            self._opened = _Answer(error=fused.error)
        return fused

    def prepare(self, body: dict[str, Any]) -> None:
        """The body the pipe sees (`request_rules.body_for_pipe`), and what the turn reads of it."""
        metadata = body.get("metadata")
        if isinstance(metadata, dict):
            self.metadata = metadata
        pipeline = self.pipe is not None and self.pipe.info.kind is PluginKind.PIPELINE
        body_for_pipe(body, self.user, pipeline=pipeline)
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

    async def _call_pipe(self) -> _Answer:
        if self._opened is not None:
            opened, self._opened = self._opened, None
            if opened.error is not None:
                raise opened.error
            return opened
        if self.upstream is not None:
            return await self._call_upstream()
        assert self.pipe is not None  # a turn is served by a pipe or by an upstream model
        call = await self._call(self.pipe.info, self.answering)
        result = await self.runtime.executor.call_pipe(self.pipe.info.id, self.body, call)
        return _Answer(result.value, result.stream)

    async def _call_upstream(self) -> _Answer:
        """The upstream model with the body the filters left, under its own id."""
        assert self.upstream is not None
        body = {**self.body, "model": self.upstream.upstream_id}
        client = self.upstream.client
        tools, rounds = self.tools, self.runtime.max_tool_rounds
        if self.stream:
            if tools:
                send = client.stream_batches
                return _Answer(stream=stream_with_tools(send, body, tools, self.host, rounds))
            return _Answer(stream=client.stream_batches(body))
        if tools:
            completion = await complete_with_tools(client.complete, body, tools, self.host, rounds)
            return _Answer(value=completion)
        return _Answer(value=await client.complete(body))

    async def open_upstream(self) -> None:
        """Send the streamed request and wait for its first chunk, so that an upstream that
        refuses it (unknown model, bad key, down) is answered with its HTTP status."""
        result = await self._call_upstream()
        stream = result.stream
        assert stream is not None  # a streamed request's result is a stream
        try:
            first = await anext(stream)
        except StopAsyncIteration:
            self._opened = _Answer(stream=_nothing())
            return
        self._opened = _Answer(stream=_prepend(first, stream))

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
        acc = Accumulator(self.encoder)
        if result.stream is not None:
            parts = acc.parts
            async for got in result.stream:
                for item in got if isinstance(got, list) else (got,):
                    if isinstance(item, str):
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
        self, content: str | None, acc: Accumulator | None = None
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
    async def _frame(self, source: Source, as_chunks: bool) -> AsyncIterator[list[Any]]:
        """Give every chunk this completion's id, and end with one finish chunk: a list of what
        to send per item or per list the source gave."""
        encoder = self.encoder
        finished = False
        async for got in source:
            framed: list[Any] = []
            for item in got if isinstance(got, list) else (got,):
                if isinstance(item, str):
                    framed.append(encoder.text_chunk(item) if as_chunks else item)
                    continue
                choices = item.get("choices")
                if isinstance(choices, list):
                    first = choices[0] if choices and isinstance(choices[0], dict) else {}
                    if "message" in first and "delta" not in first:
                        item = completion_to_chunk(item)
                        first = item["choices"][0]
                    if only_opens_the_message(item, first):
                        continue  # the stream already opened with pipehouse's own role chunk
                    finished = finished or bool(first.get("finish_reason"))
                    framed.append(encoder.adopt(item))
                elif isinstance(item.get("event"), dict):
                    await self.host.outer.emit(item["event"])
                    if self.inline_events:
                        framed.append(item)
                elif "error" in item:
                    if framed:  # what came before the error still reaches the client
                        yield framed
                        framed = []
                    _raise_reported_error(self, item)
                else:
                    framed.append(item)
            if framed:
                yield framed
        if not finished:
            yield [encoder.finish_chunk()]

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
        result: _Answer | None = None
        try:
            result = await self._call_pipe()
            items = result.stream if result.stream is not None else self._value_items(result.value)
            stream_filters = self.plan.stream
            framed = self._frame(items, as_chunks=bool(stream_filters))
            if stream_filters:
                calls = [await self._call(e.info, __body__=self.body) for e in stream_filters]
                filtered = self.runtime.executor.filter_stream(
                    [e.info.id for e in stream_filters], _one_by_one(framed), calls
                )
                async for item in filtered:
                    buffer.append(item)
                    ready.set()
                    if len(buffer) >= HIGH_WATER:
                        room.clear()
                        await room.wait()
            else:
                async for batch in framed:
                    buffer.extend(batch)
                    ready.set()
                    if len(buffer) >= HIGH_WATER:  # at most one network read past it
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
        acc = Accumulator(encoder)
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
                            ahead, finish = split_finish(item)
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
                yield frame(stream_error(error)) + DONE
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


async def _nothing() -> AsyncIterator[Item]:
    return
    yield


async def _one_by_one(batches: AsyncIterator[list[Any]]) -> AsyncIterator[Any]:
    """What stream filters see: one chunk at a time, in order."""
    async for batch in batches:
        for item in batch:
            yield item


async def _prepend(first: Item | Batch, rest: Source) -> Source:
    try:
        yield first
        async for item in rest:
            yield item
    finally:
        await rest.aclose()  # type: ignore[attr-defined]
