"""An idle timeout for a stream that costs nothing per item.

`asyncio.timeout()` around every `anext()` creates and cancels a timer per item, which costs
more than everything else pipehouse does for a chunk. Here one timer per stream checks, now and
then, whether the current wait began too long ago, and only then cancels the waiting task.
"""

from __future__ import annotations

import asyncio


class IdleWatchdog:
    """Cancels the current task when one wait (`waiting()` ... `done()`) exceeds `limit`."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.fired = False
        self.since: float | None = None
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._handle = self._loop.call_at(self._loop.time() + limit, self._check)

    def waiting(self) -> None:
        self.since = self._loop.time()

    def done(self) -> None:
        self.since = None

    def _check(self) -> None:
        deadline = (self.since if self.since is not None else self._loop.time()) + self.limit
        if self.since is not None and self._loop.time() >= deadline:
            self.fired = True
            if self._task is not None:
                self._task.cancel()
            return
        self._handle = self._loop.call_at(deadline, self._check)

    def expired(self) -> bool:
        """After a CancelledError: was it this watchdog? (If so, the cancellation is undone.)"""
        if self.fired and self._task is not None:
            self._task.uncancel()
            return True
        return False

    def close(self) -> None:
        self._handle.cancel()
