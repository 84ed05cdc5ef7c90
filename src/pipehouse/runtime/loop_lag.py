"""Notices when something blocks the event loop, and names the plugin that did.

An async plugin that calls `time.sleep(30)` (or a blocking HTTP client) inside `async def pipe`
stalls every request on the server for that long, and nothing else would say why. Until plugins
run in worker processes, pipehouse at least tells: a thread (the loop cannot watch itself while
it is stuck) watches a heartbeat that the loop updates a few times per threshold. When the beat
is late by more than the threshold, the thread looks at what the loop's thread is executing
(`sys._current_frames()`) and names the innermost plugin file on that stack, with its line.

Reading the stack only when a stall is seen costs the request path nothing: no wrapper around
plugin calls, no bookkeeping per coroutine step, and it finds the plugin however deep in a
library the blocking call sits.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import FrameType

log = logging.getLogger(__name__)

HINT = (
    "async plugin code must not block: use `await asyncio.sleep` (or an async client), or make "
    "the method a plain `def pipe`, which pipehouse runs on a worker thread"
)


@dataclass(frozen=True)
class Stall:
    """The loop was blocked: by which plugin (None: no plugin file was on the stack), where."""

    plugin_id: str | None
    path: str | None
    line: int | None
    since: float  # `time.monotonic()` of the last heartbeat before the stall


def culprit(frame: FrameType | None, files: Mapping[str, str]) -> tuple[str, str, int] | None:
    """(plugin id, file, line) of the innermost frame that runs a plugin's file."""
    while frame is not None:
        plugin_id = files.get(frame.f_code.co_filename)
        if plugin_id is not None:
            return plugin_id, frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


class LoopLagMonitor:
    """Watches the running loop from a thread; `on_stall(stall, seconds)` is called on the loop
    once it runs again, with how long it was blocked (the warning is logged at once).

    `files` maps a plugin's source file to its id (the executor keeps it up to date)."""

    def __init__(
        self,
        threshold: float,
        files: Mapping[str, str],
        on_stall: Callable[[Stall, float], None] | None = None,
    ) -> None:
        self.threshold = threshold
        self.files = files
        self.on_stall = on_stall
        self._interval = min(threshold / 4, 0.5)
        self._beat = time.monotonic()
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._handle: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin watching the running loop (call on it)."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._tick()
        self._thread = threading.Thread(target=self._watch, name="loop-lag", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._handle is not None:
            self._handle.cancel()
        if self._thread is not None:
            self._thread.join(5)

    def _tick(self) -> None:
        self._beat = time.monotonic()
        self._handle = self._loop.call_later(self._interval, self._tick)  # type: ignore[union-attr]

    def _watch(self) -> None:
        reported: float | None = None
        while not self._stopping.wait(self._interval):
            beat = self._beat
            if beat == reported or time.monotonic() - beat - self._interval < self.threshold:
                continue
            reported = beat
            frame = sys._current_frames().get(self._loop_thread)
            found = culprit(frame, self.files)
            if found is None:
                where = f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame else "unknown"
                stall = Stall(None, None, None, beat)
                log.warning(
                    "the event loop has been blocked for over %s s, outside plugin code (at %s); "
                    "every request waits",
                    self.threshold,
                    where,
                )
            else:
                plugin_id, path, line = found
                stall = Stall(plugin_id, path, line, beat)
                log.warning(
                    "plugin '%s' (%s:%s) has blocked the event loop for over %s s; every request "
                    "waits. hint: %s",
                    plugin_id,
                    path,
                    line,
                    self.threshold,
                    HINT,
                )
            try:
                self._loop.call_soon_threadsafe(self._ended, stall)  # type: ignore[union-attr]
            except RuntimeError:  # the loop closed meanwhile
                return

    def _ended(self, stall: Stall) -> None:
        if self.on_stall is not None:
            self.on_stall(stall, time.monotonic() - stall.since)
