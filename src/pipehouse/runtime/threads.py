"""Sync plugin code runs in worker threads, never on the event loop.

Open WebUI calls sync pipes, filters and tools on its event loop and iterates sync generators
there too, so one slow `requests.get` stalls every user (reference section 11.6). Here sync calls
go to a bounded thread pool, and a sync generator is drained by a worker thread into a buffer
that the event loop reads in batches: one wake-up per batch, not per item, and the thread pauses
when the reader falls behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")

_DONE = object()


class ThreadRunner:
    """A dedicated pool, so plugin threads never starve the loop's default executor."""

    def __init__(self, max_threads: int = 64) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="plugin")

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        return await loop.run_in_executor(self._pool, partial(context.run, fn, *args, **kwargs))

    def iterate(self, iterator: Iterator[Any], high_water: int = 512) -> AsyncIterator[Any]:
        return _ThreadedIterator(self._pool, iterator, high_water)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class _ThreadedIterator:
    """Async iteration over a sync iterator that a worker thread drives."""

    def __init__(self, pool: ThreadPoolExecutor, iterator: Iterator[Any], high_water: int) -> None:
        self._pool = pool
        self._iterator = iterator
        self._high_water = high_water
        self._buffer: deque[Any] = deque()
        self._lock = threading.Lock()
        self._room = threading.Event()
        self._room.set()
        self._stopped = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._started = False

    def __aiter__(self) -> _ThreadedIterator:
        return self

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _push(self, item: Any) -> None:
        with self._lock:
            self._buffer.append(item)
            should_wake = self._waiter is not None
            if len(self._buffer) >= self._high_water:
                self._room.clear()
        if should_wake:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._wake)

    def _drive(self) -> None:
        iterator = self._iterator
        try:
            for item in iterator:
                if self._stopped:
                    break
                self._push(item)
                if not self._room.is_set():
                    self._room.wait()
        except BaseException as exc:
            self._error = exc
        finally:
            close = getattr(iterator, "close", None)
            if self._stopped and close is not None:
                with contextlib.suppress(Exception):
                    close()
            self._push(_DONE)

    async def __anext__(self) -> Any:
        if not self._started:
            self._started = True
            self._loop = asyncio.get_running_loop()
            self._pool.submit(contextvars.copy_context().run, self._drive)
        while True:
            with self._lock:
                if self._buffer:
                    item = self._buffer.popleft()
                    if len(self._buffer) < self._high_water // 2:
                        self._room.set()
                    self._waiter = None
                else:
                    item = None
                    self._waiter = self._loop.create_future()  # type: ignore[union-attr]
            if self._waiter is None:
                if item is _DONE:
                    self._buffer.appendleft(_DONE)
                    if self._error is not None:
                        raise self._error
                    raise StopAsyncIteration
                return item
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def aclose(self) -> None:
        self._stopped = True
        self._room.set()
