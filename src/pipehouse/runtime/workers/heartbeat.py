"""A worker's heartbeat: its event loop beats on a pipe of its own, and a thread in the worker
says which plugin is blocking the loop when the beats stop (the idea of `runtime/loop_lag.py`,
moved into the worker, where the server can no longer read the stack itself).

Why a separate pipe and not a ping on the protocol stream: a beat that has to queue behind a
large batch of chunks would make a busy worker look dead; a byte on an otherwise silent pipe
measures only whether the loop runs. Lines on the pipe, each under PIPE_BUF so writes from the
loop and from the watching thread never interleave:

    b"b\\n"                 the loop ran (every `stall / 4` s, at most every 0.25 s)
    b"s <json>\\n"          the loop has been blocked longer than `stall` s: {"plugin_id",
                           "path", "line"} of the innermost plugin frame on its stack (or nulls)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipehouse.runtime.loop_lag import culprit

if TYPE_CHECKING:
    from pipehouse.runtime.workers.supervisor import WorkerProcess

FD_VAR = "PIPEHOUSE_WORKER_HEARTBEAT_FD"
"""The write end of the heartbeat pipe in the worker."""
STALL_VAR = "PIPEHOUSE_WORKER_STALL"
"""Seconds the worker's loop may be blocked before it reports the plugin blocking it."""


@dataclass(frozen=True)
class StallReport:
    """The worker's loop is blocked, in this plugin's file at this line (None: outside any)."""

    plugin_id: str | None
    path: str | None
    line: int | None


def _interval(stall: float) -> float:
    return max(min(stall / 4, 0.25), 0.01)


class Listener:
    """Server side: reads the beats of one worker and remembers the last one and any stall."""

    def __init__(
        self, stall: float, on_stall: Callable[[WorkerProcess, StallReport], None]
    ) -> None:
        self._read_fd, self.child_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        self._on_stall = on_stall
        self._interval = _interval(stall)
        self._beat: float | None = None
        self._buffer = b""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: WorkerProcess | None = None
        self.stall: StallReport | None = None
        """What the worker last said was blocking its loop, until it beats again."""

    def start(self, worker: WorkerProcess) -> None:
        self._worker = worker
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._read_fd, self._readable)

    def late(self, now: float) -> float | None:
        """Seconds the beats are overdue by; None until the worker's first beat (a worker that
        never beats, e.g. while it starts, is not judged by its heartbeat)."""
        if self._beat is None:
            return None
        return max(0.0, now - self._beat - self._interval)

    def close_child(self) -> None:
        """Close the worker's end here (once: the number may belong to another file later)."""
        if self.child_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.child_fd)
            self.child_fd = -1

    def close(self) -> None:
        self.close_child()
        if self._read_fd < 0:
            return
        if self._loop is not None:
            self._loop.remove_reader(self._read_fd)
        with contextlib.suppress(OSError):
            os.close(self._read_fd)
        self._read_fd = -1

    def _readable(self) -> None:
        try:
            data = os.read(self._read_fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            if self._loop is not None and self._read_fd >= 0:
                self._loop.remove_reader(self._read_fd)
            return
        lines = (self._buffer + data).split(b"\n")
        self._buffer = lines.pop()
        for line in lines:
            if line == b"b":
                self._beat = time.monotonic()
                self.stall = None
            elif line.startswith(b"s "):
                try:
                    fields: dict[str, Any] = json.loads(line[2:])
                    report = StallReport(
                        fields.get("plugin_id"), fields.get("path"), fields.get("line")
                    )
                except (ValueError, AttributeError):
                    continue
                self.stall = report
                if self._worker is not None:
                    self._on_stall(self._worker, report)


class Beating:
    """Worker side: beats from the loop and watches it from a thread (see `start_beating`)."""

    def __init__(self, fd: int, stall: float, files: Mapping[str, str]) -> None:
        self.fd = fd
        self.stall = stall
        self.files = files
        self._interval = _interval(stall)
        self._beat = time.monotonic()
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._stopping = threading.Event()
        self._handle: asyncio.TimerHandle | None = None
        self._beat_now()
        self._thread = threading.Thread(target=self._watch, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._handle is not None:
            self._handle.cancel()

    def _write(self, data: bytes) -> bool:
        try:
            os.write(self.fd, data)
        except BlockingIOError:
            return True  # the server is slow to read: a lost beat, not a dead server
        except OSError:  # the server is gone
            self.stop()
            return False
        return True

    def _beat_now(self) -> None:
        self._beat = time.monotonic()
        if self._write(b"b\n"):
            self._handle = self._loop.call_later(self._interval, self._beat_now)

    def _watch(self) -> None:
        reported: float | None = None
        while not self._stopping.wait(self._interval):
            beat = self._beat
            if beat == reported or time.monotonic() - beat - self._interval < self.stall:
                continue
            reported = beat
            found = culprit(sys._current_frames().get(self._loop_thread), self.files)
            plugin_id, path, line = found if found is not None else (None, None, None)
            report = {"plugin_id": plugin_id, "path": path, "line": line}
            self._write(b"s " + json.dumps(report).encode()[:4000] + b"\n")


def start_beating(files: Mapping[str, str]) -> Beating | None:
    """Call once on the worker's running loop. `files` maps each loaded plugin's source file
    to its id (kept up to date by the worker), so a stall names the plugin. Does nothing (None)
    when the worker was not started by a `Supervisor`."""
    raw = os.environ.get(FD_VAR)
    if not raw:
        return None
    fd = int(raw)
    os.set_blocking(fd, False)
    return Beating(fd, float(os.environ.get(STALL_VAR) or 1.0), files)
