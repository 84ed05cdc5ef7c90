"""`ProcessExecutor`: the `Executor` interface, with plugins running in worker processes.
(Over 500 lines: one method per `Executor` call, each the server side of one wire exchange.)

Plugins whose environments are the same share a pool (one worker, started on the first call,
replaced when it ends); a plugin that has ended a worker is moved to a worker of its own, so
it cannot take its neighbours' calls down twice (`PIPEHOUSE_WORKER_SHARING=plugin` gives every
plugin its own from the start). Everything crossing is plain data (`protocol`); the worker runs
an `InProcessExecutor`, so valves, injected arguments and item rules are exactly the inline
ones. Deadlines: the worker keeps the call and idle timeouts itself (an async call is
cancelled cleanly; a sync thread that cannot be stopped retires its worker); a worker that does
not answer `GRACE` seconds after a deadline is killed, failing its calls with the cause
(connection.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.info import PluginInfo
from pipehouse.runtime.action_result import ActionResult
from pipehouse.runtime.executor import CallContext, InletsThenPipe, PipeResult, PluginSource
from pipehouse.runtime.workers import values
from pipehouse.runtime.workers.call_data import context_data, info_from
from pipehouse.runtime.workers.connection import END, Call, Connection, HostEvent
from pipehouse.runtime.workers.credit import FEED_WINDOW, Credit
from pipehouse.runtime.workers.supervisor import Supervisor, WorkerExit, WorkerLimits

log = logging.getLogger(__name__)

SECRETS_WAIT = 1.0  # longest an error waits for a worker to list its plugin's secrets
# A load (importing the plugin and what it imports) is given at least this long, whatever the
# call timeout: a heavy import on a cold disk takes seconds, and inline loads have no deadline.
LOAD_TIMEOUT = 120.0
Sharing = Literal["environment", "plugin"]
PoolKey = tuple[Path | None, str | None]


class ProcessExecutor:
    """Runs plugins in worker processes, one pool per environment (module doc)."""

    def __init__(
        self,
        supervisor: Supervisor | None = None,
        *,
        call_timeout: float | None = None,
        idle_timeout: float | None = None,
        observer: Callable[[str, str, float, bool], None] | None = None,
        sharing: Sharing = "environment",
    ) -> None:
        self.supervisor = supervisor or Supervisor(WorkerLimits())
        self._owns_supervisor = supervisor is None
        self.call_timeout = call_timeout
        self.idle_timeout = idle_timeout
        self.observer = observer
        self.sharing = sharing
        self.plugin_files: dict[str, str] = {}  # the server's loop runs no plugin code of ours
        self._sources: dict[str, PluginSource] = {}
        self._hashes: dict[str, str] = {}
        self._infos: dict[str, PluginInfo] = {}
        self._secrets: dict[str, set[str]] = {}  # each plugin's last answer (secret_values)
        self._needs: dict[str, dict[str, list[str]] | None] = {}  # context_data's, per hook
        self._pools: dict[PoolKey, Connection] = {}
        self._starting: dict[PoolKey, asyncio.Lock] = {}
        self._alone: set[str] = set()  # plugins that ended a worker: one of their own since
        self._suspects: set[str] = set()  # in `_alone` for running beside an unknown culprit

    # -- pools --------------------------------------------------------------------------------
    def _key(self, plugin_id: str) -> PoolKey:
        environment = self._sources[plugin_id].environment
        alone = self.sharing == "plugin" or plugin_id in self._alone
        return (environment, plugin_id if alone else None)

    async def _connection(self, key: PoolKey) -> Connection:
        current = self._pools.get(key)
        if current is not None and current.usable:
            return current
        lock = self._starting.setdefault(key, asyncio.Lock())
        async with lock:
            current = self._pools.get(key)
            if current is not None and current.usable:
                return current
            holder: list[Connection] = []
            process = await self.supervisor.spawn(
                key[0], on_exit=lambda exit: self._ended(holder[0], key, exit)
            )
            connection = Connection(process, lambda c: self._retired(c, key))
            holder.append(connection)
            connection.send(
                {"k": "hello", "call_timeout": self.call_timeout, "idle_timeout": self.idle_timeout}
            )
            self._pools[key] = connection
            return connection

    def _ended(self, connection: Connection, key: PoolKey, exit: WorkerExit) -> None:
        if self._pools.get(key) is connection:
            del self._pools[key]
        connection.ended(exit)
        if exit.crashed and self.sharing == "environment":
            pinned = exit.plugin_id or (exit.running[0] if len(exit.running) == 1 else None)
            if pinned is not None:
                if pinned in self._sources and (
                    pinned not in self._alone or pinned in self._suspects
                ):
                    log.warning("plugin '%s' ended its worker; it runs in one of its own", pinned)
                    self._alone.add(pinned)
                self._suspects.discard(pinned)
                return
            # Several were running: which one ended it is not known. Each of them moves (a
            # suspect), so the culprit's next crash touches only its own calls, pinned on it.
            for plugin_id in exit.running:
                if plugin_id in self._sources and plugin_id not in self._alone:
                    log.warning("plugin '%s' ran in a worker that crashed; now alone", plugin_id)
                    self._suspects.add(plugin_id)
                    self._alone.add(plugin_id)

    def _retired(self, connection: Connection, key: PoolKey) -> None:
        if self._pools.get(key) is connection:
            del self._pools[key]

    async def _ready(self, plugin_id: str, stage: str) -> Connection:
        """A worker with the plugin's current code loaded in it."""
        source = self._sources.get(plugin_id)
        if source is None:
            raise KeyError(f"plugin '{plugin_id}' is not loaded")
        if plugin_id in self.supervisor.failing:
            self.supervisor.check(plugin_id, stage=stage, path=source.path)
        key = self._key(plugin_id)
        connection = self._pools.get(key)
        if connection is None or not connection.usable:
            connection = await self._connection(key)
        digest = self._hashes[plugin_id]
        if connection.loaded.get(plugin_id) != digest:
            pending = connection.loading.get(plugin_id)
            if pending is None:
                pending = asyncio.ensure_future(self._load_on(connection, source, digest))
                connection.loading[plugin_id] = pending
                pending.add_done_callback(lambda _: connection.loading.pop(plugin_id, None))
            await asyncio.shield(pending)
        return connection

    async def _load_on(self, connection: Connection, source: PluginSource, digest: str) -> None:
        message = {
            "k": "load",
            "source": {
                "id": source.id,
                "source": source.source,
                "path": source.path,
                "kind": source.kind.value if source.kind else None,
            },
        }
        reply = await self._ask(connection, message, source.id, "load", source.path, load=True)
        self._infos[source.id] = info_from(reply["value"])
        self._needs[source.id] = reply.get("needs")
        connection.loaded[source.id] = digest
        secrets = {"k": "call", "m": "secret_values", "plugin": source.id, "a": {}}
        held = await self._ask(connection, secrets, source.id, "load", source.path, load=True)
        self._secrets[source.id] = set(held.get("value") or ())

    # -- one request/reply --------------------------------------------------------------------
    async def _ask(
        self,
        connection: Connection,
        message: dict[str, Any],
        plugin_id: str,
        stage: str,
        path: str | None,
        host: Any = None,
        tools: dict[str, Any] | None = None,
        *,
        load: bool = False,
    ) -> dict[str, Any]:
        """Send `message` and wait for its reply, within the call timeout (for a `load`, at
        least `LOAD_TIMEOUT`) and then `GRACE`, after which the worker is killed."""
        call = Call(plugin_id, stage, path) if host is None else Call(plugin_id, stage, path, host)
        call.tools = tools
        started = time.perf_counter()
        ok = False
        call_id = connection.start(message, call)
        try:
            limit = self.call_timeout
            if load and limit:
                limit = max(limit, LOAD_TIMEOUT)
            reply = await connection.within(call, call.reply, limit)
            ok = True
            return reply
        finally:
            connection.forget(call_id, cancel=not ok and not call.reply.done())
            if self.observer is not None and stage != "load":
                self.observer(plugin_id, stage, time.perf_counter() - started, ok)

    async def _method(
        self,
        plugin_id: str,
        method: str,
        stage: str,
        args: dict[str, Any],
        call: CallContext | None = None,
    ) -> Any:
        connection = await self._ready(plugin_id, stage)
        message = {"k": "call", "m": method, "plugin": plugin_id, "a": args}
        path = self._sources[plugin_id].path
        host = call.host if call is not None else None
        tools = call.metadata.get("tools") if call is not None else None
        reply = await self._ask(connection, message, plugin_id, stage, path, host, tools)
        return reply.get("value")

    def _context_needs(self, plugin_id: str, hook: str) -> list[str] | None:
        """What a call of `hook` reads of its context, as the worker said at load (None: all)."""
        needs = self._needs.get(plugin_id)
        return None if needs is None else needs.get(hook)

    # -- the Executor interface ---------------------------------------------------------------
    async def load(self, source: PluginSource) -> PluginInfo:
        """Start (or reuse) the plugin's worker and load it there; its description comes back.
        Loading the same content again returns what the worker already holds."""
        digest = hashlib.sha256(source.source.encode()).hexdigest()
        previous = self._sources.get(source.id)
        if (
            previous is not None
            and self._hashes.get(source.id) == digest
            and previous.environment == source.environment
            and source.id in self._infos
        ):
            return self._infos[source.id]
        if previous is not None and previous.environment != source.environment:
            await self.unload(source.id)
        self.supervisor.forgive(source.id)
        self._alone.discard(source.id)
        self._suspects.discard(source.id)
        self._sources[source.id] = source
        self._hashes[source.id] = digest
        try:
            await self._ready(source.id, "load")
        except BaseException:
            if previous is not None:  # the last good version keeps serving
                self._sources[source.id] = previous
                self._hashes[source.id] = hashlib.sha256(previous.source.encode()).hexdigest()
            else:
                self._sources.pop(source.id, None)
                self._hashes.pop(source.id, None)
            raise
        return self._infos[source.id]

    async def unload(self, plugin_id: str) -> None:
        self._infos.pop(plugin_id, None)
        self._secrets.pop(plugin_id, None)
        self._needs.pop(plugin_id, None)
        self._hashes.pop(plugin_id, None)
        if self._sources.pop(plugin_id, None) is None:
            return
        for connection in list(self._pools.values()):
            if connection.loaded.pop(plugin_id, None) is not None and connection.usable:
                with contextlib.suppress(PluginError):
                    await self._ask(
                        connection, {"k": "unload", "plugin": plugin_id}, plugin_id, "unload", None
                    )

    async def close(self) -> None:
        for plugin_id in list(self._sources):
            with contextlib.suppress(Exception):
                await self.unload(plugin_id)
        if self._owns_supervisor:
            await self.supervisor.close()
        else:
            await asyncio.gather(
                *(c.process.kill("stopped") for c in self._pools.values()), return_exceptions=True
            )
        self._pools.clear()

    async def models(self, plugin_id: str, call: CallContext) -> list[dict[str, Any]]:
        args = {"call": context_data(call)}
        return await self._method(plugin_id, "models", "pipes", args, call)

    async def call_pipe(
        self, plugin_id: str, body: dict[str, Any], call: CallContext
    ) -> PipeResult:
        connection = await self._ready(plugin_id, "pipe")
        path = self._sources[plugin_id].path
        job = Call(plugin_id, "pipe", path, call.host)
        job.tools = call.metadata.get("tools")
        message = {
            "k": "call",
            "m": "call_pipe",
            "plugin": plugin_id,
            "a": {"body": body, "call": context_data(call, self._context_needs(plugin_id, "pipe"))},
        }
        started = time.perf_counter()
        call_id = connection.start(message, job)
        streaming = ok = False
        try:
            reply = await connection.within(job, job.reply, self.call_timeout)
            ok = True
            if not reply.get("stream"):
                return PipeResult(value=reply.get("value"))
            streaming = True
            return PipeResult(stream=self._stream(connection, call_id, job))
        finally:
            if self.observer is not None:
                self.observer(plugin_id, "pipe", time.perf_counter() - started, ok)
            if not streaming:
                connection.forget(call_id, cancel=not job.reply.done())

    def fusable(self, plugin_ids: list[str]) -> bool:
        """Loaded and sharing a pool. A crash in a fused call cannot be pinned on one of its
        plugins (each of them is running), so each moves to a worker of its own (`_ended`), and
        they are called one by one from then on."""
        sources = self._sources
        if any(p not in sources for p in plugin_ids):
            return False
        return len({self._key(p) for p in plugin_ids}) == 1

    async def call_inlets_then_pipe(
        self,
        inlets: list[tuple[str, CallContext]],
        body: dict[str, Any],
        pipe: tuple[str, CallContext],
        *,
        handles_files: bool,
    ) -> InletsThenPipe | None:
        """One round trip for a request's inlet chain and its pipe (`Executor`): the worker
        sends the body as the inlets left it (`inlets` frame) before it calls the pipe, then
        the pipe's answer as `call_pipe` would. A failure before that frame is an inlet's (or
        the worker's); after it, the pipe's, given back for the turn to raise in its place."""
        pipe_id, pipe_call = pipe
        ids = [plugin_id for plugin_id, _ in inlets]
        for plugin_id in ids:
            await self._ready(plugin_id, "inlet")
        connection = await self._ready(pipe_id, "pipe")
        hashes = self._hashes
        if any(connection.loaded.get(p) != hashes.get(p) for p in ids):
            return None  # a worker ended or a plugin moved while the others were made ready
        needs = self._context_needs(pipe_id, "pipe")
        message = {
            "k": "call",
            "m": "inlets_then_pipe",
            "plugin": pipe_id,
            "a": {
                "body": body,
                "inlets": [
                    [p, context_data(c, self._context_needs(p, "inlet"))] for p, c in inlets
                ],
                "call": context_data(pipe_call, needs),
                "files": handles_files,
            },
        }
        job = Call(pipe_id, "pipe", self._sources[pipe_id].path, pipe_call.host)
        job.fused = tuple(ids)
        limit = self.call_timeout and self.call_timeout * (len(ids) + 1)
        started = time.perf_counter()
        call_id = connection.start(message, job)
        streaming = False
        try:
            try:
                reply = await connection.within(job, job.reply, limit)
            except PluginError as error:
                if job.inlets is None:  # an inlet's error, or the worker's before the pipe
                    if self.observer is not None:
                        stage = "inlet" if error.plugin_id in ids else "pipe"
                        seconds = time.perf_counter() - started
                        self.observer(error.plugin_id, stage, seconds, False)
                    raise
                return self._fused(job, ids, None, error, started)
            if reply.get("skipped"):
                return self._fused(job, ids, None, None, started)
            if not reply.get("stream"):
                answer = PipeResult(value=reply.get("value"))
                return self._fused(job, ids, answer, None, started)
            streaming = True
            answer = PipeResult(stream=self._stream(connection, call_id, job))
            return self._fused(job, ids, answer, None, started)
        finally:
            if not streaming:
                connection.forget(call_id, cancel=not job.reply.done())

    def _fused(
        self,
        job: Call,
        ids: list[str],
        answer: PipeResult | None,
        error: PluginError | None,
        started: float,
    ) -> InletsThenPipe:
        inlets = job.inlets
        assert inlets is not None  # the worker sends them before its reply
        took: list[float] = inlets["took"]
        if self.observer is not None:
            for plugin_id, seconds in zip(ids, took, strict=True):
                self.observer(plugin_id, "inlet", seconds, True)
            if answer is not None or error is not None:
                pipe_time = time.perf_counter() - started - sum(took)
                self.observer(job.plugin_id, "pipe", pipe_time, error is None)
        return InletsThenPipe(inlets["body"], inlets["routed_by"], answer, error)

    async def _stream(
        self, connection: Connection, call_id: int, job: Call
    ) -> AsyncIterator[list[Any]]:
        """A worker's stream, batch by batch; stopping early cancels it in the worker."""
        assert job.items is not None
        started = time.perf_counter()
        finished = ok = False
        limit = self.idle_timeout
        try:
            while True:
                items = job.items
                if items.empty():  # wait (with the idle deadline) only when nothing is here
                    batch = await connection.within(job, items.get(), limit)
                else:
                    batch = items.get_nowait()
                if batch is END:
                    finished = ok = True
                    return
                if isinstance(batch, HostEvent):
                    await connection.to_host(batch.message, job.host)
                    continue
                if isinstance(batch, BaseException):
                    finished = True
                    raise batch
                yield batch  # a list: the turn takes it whole (PipeResult)
                connection.took(call_id, job, len(batch))
        finally:
            connection.forget(call_id, cancel=not finished)
            if self.observer is not None:
                stage = "pipe.stream" if job.stage == "pipe" else job.stage
                self.observer(job.plugin_id, stage, time.perf_counter() - started, ok)

    async def call_filter(
        self, plugin_id: str, hook: str, body: dict[str, Any], call: CallContext
    ) -> Any:
        info = self._infos.get(plugin_id)
        if info is not None and hook not in info.hooks:
            return body  # as inline: a hook the plugin does not have passes the body on
        args = {
            "hook": hook,
            "body": body,
            "call": context_data(call, self._context_needs(plugin_id, hook)),
        }
        return await self._method(plugin_id, "call_filter", hook, args, call)

    async def filter_stream(
        self, plugin_ids: list[str], items: AsyncIterator[dict[str, Any]], calls: list[CallContext]
    ) -> AsyncIterator[dict[str, Any]]:
        """Each run of filters sharing a worker filters the chunks there, in one stream per
        response (the chunks go over in the order they come, the survivors come back)."""
        groups: list[tuple[PoolKey, list[str], list[CallContext]]] = []
        for plugin_id, call in zip(plugin_ids, calls, strict=True):
            info = self._infos.get(plugin_id)
            if info is not None and "stream" not in info.hooks:
                continue
            key = self._key(plugin_id)
            if groups and groups[-1][0] == key:
                groups[-1][1].append(plugin_id)
                groups[-1][2].append(call)
            else:
                groups.append((key, [plugin_id], [call]))
        stream: AsyncIterator[dict[str, Any]] = items
        for _, ids, contexts in groups:
            stream = self._filter_group(ids, stream, contexts)
        async for chunk in stream:
            yield chunk

    async def _filter_group(
        self, plugin_ids: list[str], items: AsyncIterator[dict[str, Any]], calls: list[CallContext]
    ) -> AsyncIterator[dict[str, Any]]:
        connection = None
        for plugin_id in plugin_ids:
            connection = await self._ready(plugin_id, "stream")
        assert connection is not None
        first = plugin_ids[0]
        job = Call(first, "stream", self._sources[first].path, calls[0].host)
        job.items = asyncio.Queue()
        credit = job.feed_credit = Credit(FEED_WINDOW)  # the worker grants more as its filters read
        message = {
            "k": "call",
            "m": "filter_stream",
            "a": {"plugins": plugin_ids, "calls": [context_data(c) for c in calls]},
        }
        call_id = connection.start(message, job)
        # Chunks go over in one frame per turn of the loop: an upstream's network read (a
        # batch the source hands on without waiting) is one frame, not one per chunk.
        pending: list[Any] = []
        scheduled = False

        def flush() -> None:
            nonlocal pending, scheduled
            scheduled = False
            if pending:
                connection.send({"k": "feed", "id": call_id, "items": pending})
                pending = []

        async def feed() -> None:
            nonlocal scheduled
            loop = asyncio.get_running_loop()
            try:
                async for chunk in items:
                    if credit.available <= 0:  # the filters' reader is slow: so is the source
                        flush()
                        await credit.wait()
                    credit.available -= 1
                    pending.append(chunk)
                    if not scheduled:
                        scheduled = True
                        loop.call_soon(flush)
            except Exception:
                # The source failed (an upstream's error mid-stream): the worker's stream
                # ends where it stopped, and the error is raised here once it has.
                flush()
                connection.send({"k": "feed", "id": call_id, "end": True})
                raise
            flush()
            connection.send({"k": "feed", "id": call_id, "end": True})

        feeder = asyncio.create_task(feed())
        try:
            await connection.within(job, job.reply, self.call_timeout)
            async for batch in self._stream(connection, call_id, job):
                for chunk in batch:  # the turn takes a stream filter's chunks one by one
                    yield chunk
            if feeder.done():
                feeder.result()  # an error of the chunks' own source is theirs
        finally:
            feeder.cancel()
            connection.forget(call_id, cancel=True)

    async def call_tool(
        self, plugin_id: str, name: str, arguments: dict[str, Any], call: CallContext
    ) -> Any:
        args = {"name": name, "arguments": arguments, "call": context_data(call)}
        return values.decode(await self._method(plugin_id, "call_tool", "tool", args, call))

    async def call_action(
        self,
        plugin_id: str,
        body: dict[str, Any],
        call: CallContext,
        *,
        sub_action_id: str | None = None,
    ) -> ActionResult:
        args = {"body": body, "call": context_data(call), "sub": sub_action_id}
        value = await self._method(plugin_id, "call_action", "action", args, call)
        return ActionResult(**value)

    async def validate_valves(
        self, plugin_id: str, values: Mapping[str, Any], *, user: bool = False
    ) -> dict[str, Any]:
        args = {"values": dict(values), "user": user}
        return await self._method(plugin_id, "validate_valves", "valves", args)

    async def parse_valves(
        self, plugin_id: str, assignments: list[str], *, user: bool = False
    ) -> dict[str, Any]:
        args = {"assignments": assignments, "user": user}
        return await self._method(plugin_id, "parse_valves", "valves", args)

    async def valves_schema(
        self, plugin_id: str, *, user: bool = False, for_user: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        args = {"user": user, "for_user": for_user}
        return await self._method(plugin_id, "valves_schema", "valves", args)

    async def secret_values(self, plugin_id: str) -> set[str]:
        """The instance's secret values. Asked for every plugin whenever an error leaves
        (runtime/secrets.py), so it never fails and never starts a worker: the worker running
        the plugin is asked (for at most `SECRETS_WAIT`); a plugin marked failing, without a
        live worker, or whose worker does not answer in time, gives what it said last time
        (at load, or the last error)."""
        source = self._sources.get(plugin_id)
        if source is None:
            return set()
        known = self._secrets.get(plugin_id, set())
        if plugin_id in self.supervisor.failing:
            return known
        connection = self._pools.get(self._key(plugin_id))
        if connection is None or not connection.usable or plugin_id not in connection.loaded:
            return known
        message = {"k": "call", "m": "secret_values", "plugin": plugin_id, "a": {}}
        try:
            reply = await asyncio.wait_for(
                self._ask(connection, message, plugin_id, "valves", source.path), SECRETS_WAIT
            )
        except (PluginError, TimeoutError):
            return known
        self._secrets[plugin_id] = known = set(reply.get("value") or ())
        return known

    def streams(self) -> list[dict[str, Any]]:
        """Open streams and what the server holds for each (items received from the worker,
        not yet taken by the consumer: at most `credit.WINDOW`), and whether the worker said
        it waits for credit."""
        return [
            {"plugin": call.plugin_id, "held": call.ledger.held, "paused": call.ledger.paused}
            for connection in self._pools.values()
            for call in connection.calls.values()
            if call.items is not None
        ]

    def describe(self) -> dict[str, Any]:
        """Pools and their workers, for status and the bench (pid, plugins, RSS)."""
        return {
            f"{key[0] or 'host'}{'/' + key[1] if key[1] else ''}": {
                "pid": c.process.pid,
                "plugins": sorted(c.loaded),
                "rss": c.process.rss(),
                "in_flight": len(c.calls),
            }
            for key, c in self._pools.items()
        }
