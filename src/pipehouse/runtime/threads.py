"""Sync plugin code runs in worker threads, never on the event loop.

Open WebUI calls sync pipes, filters and tools on its event loop and iterates sync generators
there too, so one slow `requests.get` stalls every user (Open WebUI 0.12.4 functions.py). Here sync
calls
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
    """Async iteration over a sync iterator that a worker thread drives.

    The thread appends to a shared buffer; the event loop takes the whole buffer at once and
    serves items from it, so it is woken once per batch (only when it waits), and the thread
    pauses at `high_water` until the reader catches up.
    """

    def __init__(self, pool: ThreadPoolExecutor, iterator: Iterator[Any], high_water: int) -> None:
        self._pool = pool
        self._iterator = iterator
        self._high_water = high_water
        self._shared: deque[Any] = deque()  # written by the thread, under the lock
        self._local: deque[Any] = deque()  # read by the event loop only
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

    @staticmethod
    def _wake(waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_result(None)

    def _push(self, item: Any) -> None:
        with self._lock:
            self._shared.append(item)
            waiter, self._waiter = self._waiter, None
            if len(self._shared) >= self._high_water:
                self._room.clear()
        if waiter is not None:
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._wake, waiter)

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

    async def _refill(self) -> None:
        if not self._started:
            self._started = True
            self._loop = asyncio.get_running_loop()
            self._pool.submit(contextvars.copy_context().run, self._drive)
        while True:
            with self._lock:
                if self._shared:
                    self._local, self._shared = self._shared, self._local
                    waiter = None
                else:
                    waiter = self._waiter = self._loop.create_future()  # type: ignore[union-attr]
            if waiter is None:
                if not self._room.is_set():
                    self._room.set()
                return
            try:
                await waiter
            finally:
                with self._lock:
                    self._waiter = None

    async def __anext__(self) -> Any:
        if not self._local:
            await self._refill()
        item = self._local.popleft()
        if item is _DONE:
            self._local.appendleft(_DONE)
            error, self._error = self._error, None
            if error is not None:
                raise error
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        self._stopped = True
        self._room.set()
