"""The server's end of one worker: frames out, frames in, and the calls in flight between.

Calls are multiplexed by id: many run at once on one worker. The reader task routes each
frame to its call: a reply, a stream's batches, an event for the call's host, an event call
or a host call (answered in a task of its own, in the context of the request that made the
call, so `generate_chat_completion` serves that request's user). When the process ends, every
call in flight fails at once with the supervisor's account of why (`WorkerExit.error`).

Every call in flight is also what the process is running (`WorkerProcess.started`, for blame
and idleness), and has a backstop: the worker keeps call and idle deadlines itself, and one
that has not answered `GRACE` seconds past one is killed, which fails its calls with the cause.
One timer per connection checks the waiting calls while there are any, instead of one timer
per call: a call's cost is two attribute writes.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import itertools
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pipehouse.runtime.events import NO_LISTENER, Host, NullHost
from pipehouse.runtime.workers import host_calls, protocol
from pipehouse.runtime.workers.credit import FEED_WINDOW, Credit, Ledger
from pipehouse.runtime.workers.supervisor import WorkerExit, WorkerProcess

log = logging.getLogger(__name__)

END = object()  # a stream's last entry in `Call.items`
GRACE = 2.0  # seconds past a deadline before the worker itself is ended
CHECK_EVERY = 0.5  # how often waiting calls are checked against their deadlines
T = TypeVar("T")


@dataclass(slots=True)
class HostEvent:
    """An event (or event call) that came while a stream was running: it goes to the host when
    the reader reaches it, so it keeps its place among the items."""

    message: dict[str, Any]


_ids = itertools.count(1)


@dataclass(eq=False, slots=True)
class Call:
    """One call in flight: who made it, where its reply and stream items go."""

    plugin_id: str
    stage: str
    path: str | None
    host: Host = field(default_factory=NullHost)
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    reply: asyncio.Future[dict[str, Any]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    items: asyncio.Queue[Any] | None = None  # a stream's: made when the reply says it is one
    tools: dict[str, Any] | None = None  # the request's `__tools__`, run here when asked
    ledger: Ledger = field(default_factory=Ledger)  # a stream's flow control (credit.py)
    feed_credit: Credit | None = None  # a stream filter's input: what we may still send it
    overdue_at: float | None = None  # loop time: the worker is killed if still waited on then
    fused: tuple[str, ...] = ()  # inlet filters run before the pipe, until `inlets` comes
    inlets: dict[str, Any] | None = None  # their outcome (`ProcessExecutor.call_inlets_then_pipe`)
    limit: float = 0.0  # the deadline waited under, for the kill's message


class Connection:
    """A worker process and the protocol spoken with it."""

    def __init__(self, process: WorkerProcess, on_retire: Callable[[Connection], None]) -> None:
        self.process = process
        self._frames = protocol.FrameWriter(process.writer)
        self.calls: dict[int, Call] = {}
        self.loaded: dict[str, str] = {}  # plugin id -> content hash live in the worker
        self.loading: dict[str, asyncio.Future[Any]] = {}
        self.retiring = False
        self._on_retire = on_retire
        self._tasks: set[asyncio.Task[Any]] = set()
        # call id -> the tasks relaying a model's stream that call asked for (host calls)
        self._host_streams: dict[int, set[asyncio.Task[Any]]] = {}
        # question -> the frames a host call's stream may still send the worker (credit.py)
        self._host_credits: dict[int, Credit] = {}
        self._loop = asyncio.get_running_loop()
        self._checking: asyncio.TimerHandle | None = None
        self._reader = asyncio.create_task(self._read(), name=f"worker-{process.pid}-frames")
        self._sync_reader = asyncio.create_task(
            self._read_sync(self._hand_over_sync_channel()), name=f"worker-{process.pid}-sync"
        )

    def _hand_over_sync_channel(self) -> socket.socket:
        """A second socket, passed to the worker before anything else (SCM_RIGHTS), for the
        calls plugin code makes without `await` on the worker's loop: the worker blocks on it
        while its loop, which reads the main socket, cannot run (docs/isolation.md)."""
        ours, theirs = socket.socketpair()
        raw = self.process.writer.get_extra_info("socket")
        main = socket.socket(fileno=os.dup(raw.fileno()))
        try:
            socket.send_fds(main, [protocol.SYNC_MARK], [theirs.fileno()])
        finally:
            main.close()
            theirs.close()
        return ours

    @property
    def usable(self) -> bool:
        return self.process.alive and not self.retiring

    def send(self, message: dict[str, Any]) -> None:
        if self.process.alive:
            self._frames.write(message)

    def start(self, message: dict[str, Any], call: Call) -> int:
        """Send `message` (given up: it gets the call's id) as a new call; its frames will
        reach `call` until `forget`."""
        call_id = next(_ids)
        self.calls[call_id] = call
        self.process.started(call.plugin_id)
        for plugin_id in call.fused:
            self.process.started(plugin_id)
        message["id"] = call_id
        self.send(message)
        return call_id

    async def within(self, call: Call, waiting: Awaitable[T], limit: float | None) -> T:
        """What `waiting` gives (the call's reply, a stream's next batch); once `limit` and
        `GRACE` have passed without it, the worker is killed, which fails `waiting` with the
        cause (`ended`). None or 0: no limit."""
        if not limit:
            return await waiting
        call.limit = limit
        call.overdue_at = self._loop.time() + limit + GRACE
        if self._checking is None:
            self._checking = self._loop.call_later(CHECK_EVERY, self._check_overdue)
        try:
            return await waiting
        finally:
            call.overdue_at = None

    def _check_overdue(self) -> None:
        self._checking = None
        if not self.process.alive or not self.calls:
            return
        now = self._loop.time()
        for call in self.calls.values():
            if call.overdue_at is not None and now >= call.overdue_at:
                detail = (
                    f"was ended because a call of plugin '{call.plugin_id}' ran past its "
                    f"{call.limit:g} s deadline"
                )
                self.kill_soon("deadline", call.plugin_id, detail)
                return
        self._checking = self._loop.call_later(CHECK_EVERY, self._check_overdue)

    def took(self, call_id: int, call: Call, items: int) -> None:
        """The consumer of a stream took `items`: grant the worker more credit when due."""
        credit = call.ledger.took(items)
        if credit and call_id in self.calls:
            self.send({"k": "credit", "id": call_id, "n": credit})

    def forget(self, call_id: int, *, cancel: bool) -> None:
        """The caller is done with a call; `cancel` tells the worker to stop it."""
        call = self.calls.pop(call_id, None)
        if call is not None:
            self.process.finished(call.plugin_id)
            self._inlets_done(call)
            if cancel:
                self.send({"k": "cancel", "id": call_id})
        # A stream the call asked for through a host call has nobody left to read it: stop it,
        # which closes its upstream request (the model stops generating).
        for task in self._host_streams.pop(call_id, ()):
            task.cancel()
        if self.retiring and not self.calls:
            self._spawn(self._retire_now())

    def ended(self, exit: WorkerExit) -> None:
        """The process ended: fail every call in flight with the cause."""
        calls, self.calls = self.calls, {}
        for call in calls.values():
            error = exit.error(call.plugin_id, stage=call.stage, path=call.path)
            if call.fused:
                names = ", ".join(f"'{p}'" for p in call.fused)
                error = dataclasses.replace(
                    error,
                    message=f"{error.message} while it ran the inlet filters {names} and then "
                    "this pipe in one call (each runs in a worker of its own from now on, so a "
                    "next crash names its plugin)",
                )
            if not call.reply.done():
                call.reply.set_exception(error)
                call.reply.exception()  # read here too: nobody may be waiting any more
            elif call.items is not None:
                call.items.put_nowait(error)
        self._reader.cancel()
        self._sync_reader.cancel()
        if self._checking is not None:
            self._checking.cancel()
        for task in list(self._tasks):
            task.cancel()

    def kill_soon(self, cause: Any, plugin_id: str | None, detail: str) -> None:
        """End the process (a call ran past its deadline); its calls fail with the cause."""
        if self.process.alive:
            self._spawn(self.process.kill(cause, plugin_id=plugin_id, detail=detail))

    def retire(self) -> None:
        """Take no new calls; end the process once the calls in flight have finished (a
        thread the worker could not stop is still running in it)."""
        if self.retiring:
            return
        self.retiring = True
        self._on_retire(self)
        if not self.calls:
            self._spawn(self._retire_now())

    async def _retire_now(self) -> None:
        await self.process.kill(
            "deadline", detail="was ended because a call it ran could not be stopped in time"
        )

    def _spawn(self, coroutine: Any, context: contextvars.Context | None = None) -> None:
        task = asyncio.get_running_loop().create_task(coroutine, context=context)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- frames from the worker ------------------------------------------------------------
    async def _read(self) -> None:
        reader = protocol.FrameReader(self.process.reader)
        try:
            while messages := await reader.frames():
                for message in messages:
                    delivering = self._route(message)
                    if delivering is not None:  # an event: delivered before the next frame
                        await delivering
        except (protocol.ProtocolError, ConnectionError) as exc:
            log.error("worker %s broke the protocol (%s); ending it", self.process.pid, exc)
            self._spawn(self.process.kill("unresponsive", detail=f"broke the protocol: {exc}"))

    def _route(self, message: dict[str, Any]) -> Awaitable[None] | None:
        """Take one frame to its call; an event for a call's host comes back to be awaited."""
        kind = message["k"]
        call = self.calls.get(message.get("id"))  # type: ignore[arg-type]
        if kind == "result":
            if call is not None and not call.reply.done():
                if call.items is None and message.get("stream"):
                    call.items = asyncio.Queue()  # before the batches behind this frame
                call.reply.set_result(message)
        elif kind == "inlets":  # a fused call's inlets are done: from now on it runs the pipe
            if call is not None:
                call.inlets = message
                self._inlets_done(call)
        elif kind == "chunks":
            if call is not None and call.items is not None:
                call.ledger.received += len(message["items"])
                call.items.put_nowait(message["items"])
        elif kind == "credit":  # a stream filter took its input: feed it more
            if call is not None and call.feed_credit is not None:
                call.feed_credit.grant(message["n"])
        elif kind == "host_credit":  # plugin code took frames of a host call's stream
            credit = self._host_credits.get(message["r"])
            if credit is not None:
                credit.grant(message["n"])
        elif kind == "waiting":  # the worker's stream is out of credit: its consumer is slow
            if call is not None:
                call.ledger.paused = True
        elif kind == "end":
            if call is not None and call.items is not None:
                call.items.put_nowait(END)
        elif kind == "error":
            if call is not None:
                error = protocol.error_from(message["error"])
                if not call.reply.done():
                    call.reply.set_exception(error)
                elif call.items is not None:
                    call.items.put_nowait(error)
        elif kind in ("event", "event_call"):
            if call is not None and call.items is not None and call.reply.done():
                call.items.put_nowait(HostEvent(message))
            else:
                return self.to_host(message, call.host if call is not None else NullHost())
        elif kind == "host_call":
            context = call.context if call is not None else None
            self._spawn(self._answer_host_call(message, call), context)
        elif kind == "retire":
            self.retire()
        return None

    def _inlets_done(self, call: Call) -> None:
        for plugin_id in call.fused:
            self.process.finished(plugin_id)
        call.fused = ()

    async def to_host(self, message: dict[str, Any], host: Host) -> None:
        """Deliver an event, or start answering an event call."""
        if message["k"] == "event":
            await host.emit(message["event"])
        else:
            self._spawn(self._answer_event_call(message["r"], host, message["event"]))

    async def _read_sync(self, sock: socket.socket) -> None:
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        frames = protocol.FrameWriter(writer)
        try:
            while (message := await protocol.read(reader)) is not None:
                call = self.calls.get(message.get("id"))  # type: ignore[arg-type]
                context = call.context if call is not None else None
                self._spawn(self._answer_host_call(message, call, frames.write), context)
        except (protocol.ProtocolError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _answer_event_call(self, question: int, host: Host, event: dict[str, Any]) -> None:
        try:
            value = await host.call(event)
        except Exception as exc:  # the asking plugin gets an answer either way
            log.warning("an event call from a worker failed: %s", exc)
            value = dict(NO_LISTENER)
        self.send({"k": "answer", "r": question, "value": value})

    async def _answer_host_call(
        self,
        message: dict[str, Any],
        call: Call | None,
        send: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        # Only the worker's loop, which reads the main socket, takes a stream and grants credit
        # for it; the sync channel's blocking calls get no streams.
        credit = Credit(FEED_WINDOW) if send is None else None
        send = send or self.send
        question = message["r"]
        try:
            if message.get("op") == "tool":
                value = await host_calls.run_tool(message, call.tools if call else None)
            else:
                value = await host_calls.answer(message, call.host if call else None)
        except Exception as exc:
            send({"k": "answer", "r": question, "error": f"{type(exc).__name__}: {exc}"})
            return
        if not isinstance(value, AsyncIterator):
            send({"k": "answer", "r": question, "value": value})
            return
        send({"k": "answer", "r": question, "stream": True})
        call_id = message.get("id")
        task = asyncio.current_task()
        relaying: set[asyncio.Task[Any]] | None = None
        if isinstance(call_id, int) and call_id in self.calls and task is not None:
            relaying = self._host_streams.setdefault(call_id, set())
            relaying.add(task)
        if credit is not None:  # plugin code that reads slowly holds the model back
            self._host_credits[question] = credit
        try:
            async for frame in host_calls.sse_text(value):
                if credit is not None:
                    if credit.available <= 0:
                        await credit.wait()
                    credit.available -= 1
                send({"k": "host_chunks", "r": question, "items": [frame]})
        finally:
            self._host_credits.pop(question, None)
            if relaying is not None and isinstance(call_id, int) and task is not None:
                relaying.discard(task)
                if not relaying and self._host_streams.get(call_id) is relaying:
                    del self._host_streams[call_id]
            send({"k": "host_chunks", "r": question, "end": True})
