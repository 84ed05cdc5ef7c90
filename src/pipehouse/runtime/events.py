"""`__event_emitter__` and `__event_call__`: how a plugin talks to the person using it.

A `Host` is whoever serves the request (the server's event channel, the command line, a test):
it receives events and answers event calls. Open WebUI hands plugins `None` instead of an
emitter whenever chat ids are missing (every plain API call); here plugins always get working
callables, and an event call with nobody to answer returns a documented error dict at once.

Sync plugin code runs in worker threads (see `threads`), where `await` is unavailable; calling
the emitter from such a thread delivers the event straight away and hands back an already
finished coroutine, so `asyncio.run(emitter(...))` and fire-and-forget calls both work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, Protocol

NO_LISTENER = {"error": "No client is listening for event calls."}

EventEmitter = Callable[[dict[str, Any]], Awaitable[None]]
EventCaller = Callable[[dict[str, Any]], Awaitable[Any]]


class Host(Protocol):
    """Receives a plugin's events and answers its event calls (plain data both ways)."""

    async def emit(self, event: dict[str, Any]) -> None: ...

    async def call(self, event: dict[str, Any]) -> Any: ...


class NullHost:
    """Nobody is listening: events are dropped and calls are answered at once."""

    async def emit(self, event: dict[str, Any]) -> None:
        return None

    async def call(self, event: dict[str, Any]) -> Any:
        return dict(NO_LISTENER)


class RecordingHost:
    """Keeps every event and answers calls from a list; for tests and scripted runs."""

    def __init__(self, answers: list[Any] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self._answers = list(answers or [])

    async def emit(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    async def call(self, event: dict[str, Any]) -> Any:
        self.calls.append(event)
        return self._answers.pop(0) if self._answers else dict(NO_LISTENER)


class _Finished(Coroutine[Any, Any, Any]):
    """An already-finished coroutine: `await`, `asyncio.run` (which takes only coroutines since
    Python 3.12, not generator-based ones) and tasks accept it, and unlike a native coroutine
    it raises no "never awaited" warning when a sync caller ignores it."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def send(self, _: Any) -> Any:
        raise StopIteration(self._value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        raise typ if val is None else val

    def close(self) -> None:
        return None

    def __await__(self) -> Generator[Any, None, Any]:
        return self._value
        yield  # a generator: `await` finishes at once with the value


def _thread_safe(
    send: Callable[[dict[str, Any]], Coroutine[Any, Any, Any]],
) -> Callable[..., Awaitable[Any]]:
    loop = asyncio.get_running_loop()

    def bound(event: dict[str, Any]) -> Awaitable[Any]:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            return send(event)
        # Called from a worker thread (or another loop): run it on the host's loop now.
        result = asyncio.run_coroutine_threadsafe(send(event), loop).result()
        return _Finished(result)

    return bound


def make_emitter(host: Host) -> EventEmitter:
    """An `__event_emitter__` bound to `host`; must be created on the event loop."""
    return _thread_safe(host.emit)


def make_caller(host: Host) -> EventCaller:
    """An `__event_call__` bound to `host`; must be created on the event loop."""
    return _thread_safe(host.call)
