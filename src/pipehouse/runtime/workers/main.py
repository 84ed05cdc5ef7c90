"""A worker process: runs the plugins of one environment for the server, over `protocol`.

    python -m pipehouse.runtime.workers.main   (started by `supervisor.Supervisor.spawn`)

The protocol socket's descriptor comes in PIPEHOUSE_WORKER_FD and the environment's package
directory in PIPEHOUSE_WORKER_ENVIRONMENT (appended to `sys.path`, after the host's).

Inside, an `InProcessExecutor` does what it does in the server (valves, injected arguments,
sync code on threads, streams as items); this module only turns frames into its calls and its
answers into frames. Every call is a task of its own, so async plugins stay concurrent and one
slow call never holds up another. Events, event calls, `generate_chat_completion` and the
`open_webui` tables' calls go back to the server as frames (`remote.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.info import HOOKS
from pipehouse.plugin.kinds import PluginKind
from pipehouse.plugin.loader import LoadedPlugin
from pipehouse.runtime.executor import CallContext, PipeResult, PluginSource
from pipehouse.runtime.injection import context_reads
from pipehouse.runtime.inprocess import InProcessExecutor
from pipehouse.runtime.request_rules import body_for_pipe, drop_files, filter_result
from pipehouse.runtime.workers import heartbeat, protocol, remote, values
from pipehouse.runtime.workers.credit import FEED_WINDOW, Credit, Ledger
from pipehouse.runtime.workers.supervisor import ENVIRONMENT_VAR, PROTOCOL_FD_VAR

log = logging.getLogger("pipehouse.worker")

BATCH = 256  # items per `chunks` frame at most; fewer when the stream pauses
SYNC_WAIT = 60.0  # longest a call made without await holds the worker's loop (as inline)
DRAIN_AT = 1 << 20  # bytes waiting to be sent before a finished call waits for them to go


class WireHost:
    """The `Host` of one call: events and event calls go to the server, tagged with the call."""

    def __init__(self, worker: Worker, call_id: int) -> None:
        self._worker = worker
        self._id = call_id

    async def emit(self, event: dict[str, Any]) -> None:
        self._worker.flush(self._id)  # the items yielded before it go first
        self._worker.send({"k": "event", "id": self._id, "event": event})

    async def call(self, event: dict[str, Any]) -> Any:
        self._worker.flush(self._id)
        return await self._worker.ask({"k": "event_call", "id": self._id, "event": event})


class Worker:
    """Frames in, calls on the executor, frames out."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        sync: socket.socket | None = None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.sync = sync
        self._sync_lock = threading.Lock()
        self.frames = protocol.FrameWriter(writer)
        self._transport = writer.transport
        self._loop: asyncio.AbstractEventLoop  # serve's
        self.executor = InProcessExecutor()
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.feeds: dict[int, asyncio.Queue[list[Any] | None]] = {}
        self.pending: dict[int, asyncio.Future[Any]] = {}  # our questions to the server
        self.host_streams: dict[int, asyncio.Queue[list[Any] | None]] = {}
        self.flushers: dict[int, Callable[[], None]] = {}  # streams' pending batches
        self.credits: dict[int, Credit] = {}  # what each stream may still send (credit.py)
        self._next_question = 0

    # -- sending -------------------------------------------------------------------------------
    def send(self, message: dict[str, Any]) -> None:
        self.frames.write(message)

    def ask_blocking(self, message: dict[str, Any]) -> Any:
        """Ask the server and wait, blocking this thread (the worker's loop when plugin code
        calls without `await` there): over the sync channel, which the loop does not read."""
        if self.sync is None:
            raise remote.HostCallError("this worker has no sync channel to the server")
        with self._sync_lock:
            sync = self.sync
            try:
                sync.settimeout(SYNC_WAIT)
                sync.sendall(protocol.encode({**message, "r": 0}))
                answer = protocol.read_blocking(sync)
            except (TimeoutError, OSError, protocol.ProtocolError) as exc:
                self.sync = None  # a late answer would be read as the next one's: no more
                raise remote.HostCallError(
                    f"the server did not answer within {SYNC_WAIT:g} s while this worker's "
                    "event loop waited; await the call instead (Open WebUI 0.12.4 style)"
                ) from exc
        if "error" in answer:
            raise remote.HostCallError(answer["error"])
        return answer.get("value")

    def flush(self, call_id: int) -> None:
        """Send a stream's pending items now (before an event of the same call)."""
        flusher = self.flushers.get(call_id)
        if flusher is not None:
            flusher()

    async def ask(self, message: dict[str, Any]) -> Any:
        """Send a question (event_call, host_call) and wait for the server's answer."""
        self._next_question += 1
        question = self._next_question
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[question] = future
        try:
            self.send({**message, "r": question})
            answer = await future
        finally:
            self.pending.pop(question, None)
        if "error" in answer:
            raise remote.HostCallError(answer["error"])
        if answer.get("stream"):
            return self._host_stream(question)
        return answer.get("value")

    async def _host_stream(self, question: int) -> AsyncIterator[Any]:
        queue: asyncio.Queue[list[Any] | None] = self.host_streams.setdefault(
            question, asyncio.Queue()
        )
        ledger = Ledger(FEED_WINDOW)  # the server sends no more than its plugin code took
        try:
            while (batch := await queue.get()) is not None:
                for item in batch:
                    yield item
                if due := ledger.took(len(batch)):
                    self.send({"k": "host_credit", "r": question, "n": due})
        finally:
            self.host_streams.pop(question, None)

    # -- receiving -----------------------------------------------------------------------------
    async def serve(self) -> None:
        remote.install(self)
        self._loop = asyncio.get_running_loop()
        beating = heartbeat.start_beating(self.executor.plugin_files)
        reader = protocol.FrameReader(self.reader)
        while messages := await reader.frames():
            for message in messages:
                self._receive(message)
        if beating is not None:
            beating.stop()
        for task in list(self.tasks.values()):
            task.cancel()
        await self.executor.close()

    def _receive(self, message: dict[str, Any]) -> None:
        kind = message["k"]
        if kind == "ping":
            self.send({"k": "pong", "id": message.get("id")})
        elif kind == "hello":  # the server's timeouts, so errors read as they do inline
            self.executor.call_timeout = message.get("call_timeout")
            self.executor.idle_timeout = message.get("idle_timeout")
        elif kind == "answer":
            future = self.pending.get(message["r"])
            if future is not None and not future.done():
                future.set_result(message)
                if message.get("stream"):
                    self.host_streams.setdefault(message["r"], asyncio.Queue())
        elif kind == "host_chunks":
            queue = self.host_streams.setdefault(message["r"], asyncio.Queue())
            queue.put_nowait(None if message.get("end") else message["items"])
        elif kind == "credit":
            credit = self.credits.get(message["id"])
            if credit is not None:
                credit.grant(message["n"])
        elif kind == "feed":
            feed = self.feeds.get(message["id"])
            if feed is not None:
                feed.put_nowait(None if message.get("end") else message["items"])
        elif kind == "cancel":
            call_id = message["id"]
            task = self.tasks.get(call_id)
            if task is not None:
                task.cancel()  # cancelled before its first step, `_run` never forgets it:
                task.add_done_callback(lambda _: self._forget(call_id))
        else:  # call, load, unload: a task each, which forgets itself (`_run`)
            call_id = message["id"]
            if kind == "call" and message["m"] == "filter_stream":
                self.feeds[call_id] = asyncio.Queue()
            self.tasks[call_id] = self._loop.create_task(self._run(call_id, message))

    def _forget(self, call_id: int) -> None:
        self.tasks.pop(call_id, None)
        self.feeds.pop(call_id, None)

    async def _run(self, call_id: int, message: dict[str, Any]) -> None:
        remote.current_call.set(call_id)
        try:
            await self._dispatch(call_id, message)
        except asyncio.CancelledError:
            return
        except PluginError as error:
            data = protocol.error_data(error)
            self.send({"k": "error", "id": call_id, "error": data})
            if error.error_type == "Timeout":  # a thread may still run it: start afresh
                self.send({"k": "retire", "id": call_id, "plugin": error.plugin_id})
        except BaseException as exc:  # never leaves a call unanswered
            plugin_id = message.get("plugin") or message.get("source", {}).get("id") or "?"
            failed = PluginError.from_exception(exc, plugin_id=plugin_id, path=None, stage="call")
            self.send({"k": "error", "id": call_id, "error": protocol.error_data(failed)})
        finally:
            self._forget(call_id)
        if self._transport.get_write_buffer_size() > DRAIN_AT:  # the server reads slowly
            await self.frames.drain()

    def _tools(self, call_id: int, metadata: dict[str, Any]) -> dict[str, Any]:
        """`__tools__` whose callables ask the server to run the tool (it holds the toolkit)."""
        tools = metadata.get("tools")
        if not isinstance(tools, dict):
            return metadata

        def proxy(name: str) -> Callable[..., Any]:
            async def call(**arguments: Any) -> Any:
                message = {"k": "host_call", "id": call_id, "op": "tool", "name": name}
                return values.decode(await self.ask({**message, "kwargs": arguments}))

            call.__name__ = call.__qualname__ = name
            return call

        offered = {
            name: {**entry, "callable": proxy(name)}
            for name, entry in tools.items()
            if isinstance(entry, dict)
        }
        return {**metadata, "tools": offered}

    def _context(self, call_id: int, data: dict[str, Any]) -> CallContext:
        metadata = data.get("metadata") or {}
        return CallContext(
            data.get("user") or {},
            self._tools(call_id, metadata) if "tools" in metadata else metadata,
            WireHost(self, call_id),
            data.get("valves"),
            data.get("user_valves"),
            data.get("model"),
            data.get("request"),
            data.get("extra") or {},
        )

    async def _dispatch(self, call_id: int, message: dict[str, Any]) -> None:
        kind = message["k"]
        executor = self.executor
        if kind == "load":
            source = message["source"]
            info = await executor.load(
                PluginSource(
                    source["id"],
                    source["source"],
                    source.get("path"),
                    PluginKind(source["kind"]) if source.get("kind") else None,
                )
            )
            needs = _context_needs(executor.loaded(info.id))
            self.send({"k": "result", "id": call_id, "value": asdict(info), "needs": needs})
            return
        if kind == "unload":
            await executor.unload(message["plugin"])
            self.send({"k": "result", "id": call_id, "value": None})
            return
        method, plugin = str(message["m"]), str(message.get("plugin") or "")
        a = message.get("a") or {}
        if method == "filter_stream":
            calls = [self._context(call_id, c) for c in a["calls"]]
            stream = executor.filter_stream(a["plugins"], self._fed(call_id), calls)
            self.send({"k": "result", "id": call_id, "stream": True})
            await self._pump(call_id, stream)
            return
        if method == "inlets_then_pipe":
            await self._inlets_then_pipe(call_id, plugin, a)
            return
        call = self._context(call_id, a.get("call") or {})
        if method == "call_pipe":
            await self._answer(call_id, await executor.call_pipe(plugin, a["body"], call))
            return
        if method == "models":
            value: Any = await executor.models(plugin, call)
        elif method == "call_filter":
            value = await executor.call_filter(plugin, a["hook"], a["body"], call)
        elif method == "call_tool":
            value = values.encode(await executor.call_tool(plugin, a["name"], a["arguments"], call))
        elif method == "call_action":
            value = asdict(
                await executor.call_action(plugin, a["body"], call, sub_action_id=a.get("sub"))
            )
        elif method == "validate_valves":
            value = await executor.validate_valves(plugin, a["values"], user=a.get("user", False))
        elif method == "parse_valves":
            value = await executor.parse_valves(plugin, a["assignments"], user=a.get("user", False))
        elif method == "valves_schema":
            value = await executor.valves_schema(
                plugin, user=a.get("user", False), for_user=a.get("for_user")
            )
        elif method == "secret_values":
            value = sorted(await executor.secret_values(plugin))
        else:
            raise PluginError(plugin_id=plugin or "?", message=f"unknown call {method!r}")
        self.send({"k": "result", "id": call_id, "value": value})

    async def _answer(self, call_id: int, result: PipeResult) -> None:
        if result.stream is None:
            self.send({"k": "result", "id": call_id, "value": result.value})
        else:
            self.send({"k": "result", "id": call_id, "stream": True})
            await self._pump(call_id, result.stream)

    async def _inlets_then_pipe(self, call_id: int, pipe_id: str, a: dict[str, Any]) -> None:
        """A request's inlet chain and then its pipe, with the turn's rules between them
        (`ChatTurn.run_inlets` and `prepare`, turn.py): the body goes back as the inlets left
        it (encoded now, before the pipe may change it) and the pipe is skipped where the
        server has work first: an inlet changed `body["model"]` (the router is followed once
        all inlets ran) or named tools."""
        executor = self.executor
        body = a["body"]
        model_id = body.get("model")
        routed_by: int | None = None
        took: list[float] = []  # seconds per inlet, for the server's metrics
        for index, (plugin_id, data) in enumerate(a["inlets"]):
            started = time.perf_counter()
            call = self._context(call_id, data)
            result = await executor.call_filter(plugin_id, "inlet", body, call)
            body = filter_result(plugin_id, executor.loaded(plugin_id).path, "inlet", result)
            took.append(time.perf_counter() - started)
            if body.get("model") != model_id:
                model_id = body.get("model")
                routed_by = index
        message = {"k": "inlets", "id": call_id, "body": body, "routed_by": routed_by, "took": took}
        self.send(message)
        kept = drop_files(body) if a.get("files") else None
        metadata = body.get("metadata")
        if routed_by is not None or (isinstance(metadata, dict) and metadata.get("tool_ids")):
            self.send({"k": "result", "id": call_id, "skipped": True})
            return
        data = a["call"]
        if isinstance(metadata, dict):
            data["metadata"] = metadata
        if kept:
            data["extra"] = {**(data.get("extra") or {}), "__files__": kept}
        body_for_pipe(body, {}, pipeline=False)
        call = self._context(call_id, data)
        await self._answer(call_id, await executor.call_pipe(pipe_id, body, call))

    async def _fed(self, call_id: int) -> AsyncIterator[Any]:
        """A stream filter's input, as the server feeds it: more credit for it as the
        filters take it (credit.py), so the server holds its source back when they do not."""
        queue = self.feeds[call_id]
        ledger = Ledger(FEED_WINDOW)
        while (batch := await queue.get()) is not None:
            for item in batch:
                yield item
            if due := ledger.took(len(batch)):
                self.send({"k": "credit", "id": call_id, "n": due})

    async def _pump(self, call_id: int, stream: AsyncIterator[Any]) -> None:
        """Send a stream's items in batches: whatever accumulated until the producer paused
        (a flush is scheduled for the loop's next turn), or `BATCH` items, whichever is first;
        and only while the server granted credit for them: out of credit, the stream is not
        iterated further (an endless generator pauses) until its consumer takes items."""
        batch: list[Any] = []
        credit = self.credits[call_id] = Credit()
        loop = asyncio.get_running_loop()
        scheduled = False

        def flush() -> None:
            nonlocal batch, scheduled
            scheduled = False
            if batch:
                self.send({"k": "chunks", "id": call_id, "items": batch})
                batch = []

        self.flushers[call_id] = flush
        try:
            async for item in stream:
                if credit.available <= 0:
                    flush()
                    self.send({"k": "waiting", "id": call_id})
                    await credit.wait()
                credit.available -= 1
                batch.append(item)
                if len(batch) >= BATCH:
                    flush()
                    await self.frames.drain()
                elif not scheduled:
                    scheduled = True
                    loop.call_soon(flush)
        finally:
            flush()  # what came before an error still reaches the client, ahead of it
            self.flushers.pop(call_id, None)
            self.credits.pop(call_id, None)
            closing = getattr(stream, "aclose", None)
            if closing is not None:  # cancelled while waiting for credit: end the generator
                with contextlib.suppress(Exception):  # its own error was the stream's to tell
                    await closing()
        self.send({"k": "end", "id": call_id})


def _context_needs(plugin: LoadedPlugin) -> dict[str, list[str]] | None:
    """For each hook, the parts of a call's context its declared arguments are made from
    (`injection.context_reads`): the server sends a call of it only those. None (send all) for
    a pipeline, whose hooks are given the user whatever they declare."""
    if plugin.kind is PluginKind.PIPELINE:
        return None
    handlers = ((hook, plugin.handler(hook)) for hook in HOOKS.get(plugin.kind, ()))
    return {hook: context_reads(handler) for hook, handler in handlers if handler is not None}


def _paths(environment: str | None) -> None:
    """An environment's packages come after the host's: it adds, never replaces."""
    if environment and environment not in sys.path:
        sys.path.append(environment)


def _sync_channel(sock: socket.socket) -> socket.socket | None:
    """The socket the server hands over first (connection.py), for blocking host calls."""
    sock.settimeout(30)
    try:
        data, fds, _, _ = socket.recv_fds(sock, 1, 1)
    except TimeoutError:
        return None
    finally:
        sock.settimeout(None)
    if data != protocol.SYNC_MARK or not fds:
        raise protocol.ProtocolError("the server did not start with the sync channel")
    return socket.socket(fileno=fds[0])


async def _main(fd: int) -> None:
    sock = socket.socket(fileno=fd)
    sync = _sync_channel(sock)
    reader, writer = await asyncio.open_unix_connection(sock=sock, limit=2**24)
    worker = Worker(reader, writer, sync)
    try:
        await worker.serve()
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="pipehouse-worker")
    parser.add_argument("--fd", type=int, default=None, help="the socket to the server")
    parser.add_argument("--env", default=None, help="the environment's package directory")
    args = parser.parse_args(argv)
    fd = args.fd if args.fd is not None else int(os.environ[PROTOCOL_FD_VAR])
    environment = args.env or os.environ.get(ENVIRONMENT_VAR) or None
    _paths(environment)
    logging.basicConfig(level=os.environ.get("PIPEHOUSE_LOG_LEVEL", "WARNING").upper())
    if environment:
        log.debug("worker %s serving environment %s", os.getpid(), Path(environment).name)
    _run_loop(_main(fd))


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """On uvloop when it is installed, as under Open WebUI (uvicorn picks uvloop when it can),
    so plugins meet the loop they meet there; a frame also costs less on it. Otherwise on
    asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


if __name__ == "__main__":
    main()
