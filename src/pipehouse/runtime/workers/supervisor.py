"""(Over 500 lines: one concept, a worker process's life: started, watched, ended, restarted.)
Worker processes: started, watched, killed and replaced (docs/isolation.md, "Containment").

A plugin running in a worker can end that process (`os._exit`, a segfault), fill its memory,
spin forever or block its event loop. The supervisor is what notices each of these, ends the
process if it has not ended itself (SIGKILL to its whole process group, so threads and any
children a plugin started go with it), reaps it, and tells the process's owner *why* in one
`WorkerExit`, so that the owner (the `ProcessExecutor`) fails the calls that were in flight
with an error naming the plugin and the cause, and starts a new worker when one is needed.

It also keeps the score: a plugin that ends its worker `crash_limit` times within
`crash_window` seconds is marked failing (with the last cause) instead of being restarted
forever, and a new worker for a pool whose workers keep dying is started only after
a back-off.

The protocol spoken over `WorkerProcess.reader`/`writer` is not the supervisor's business; the
heartbeat is, and travels on a pipe of its own (`heartbeat.py`), so a worker that is too busy
to read its protocol stream is still told apart from one whose event loop is blocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pipehouse.plugin.errors import PluginError
from pipehouse.runtime.workers import heartbeat

if TYPE_CHECKING:
    from pipehouse.config import Settings

log = logging.getLogger(__name__)

Cause = Literal["exit", "signal", "memory", "deadline", "unresponsive", "idle", "stopped"]
"""Why a worker ended: it exited, a signal killed it, it went over its memory limit, a call
overran its deadline, its event loop stopped beating, it sat idle, or the server stopped it."""

EXPECTED: frozenset[str] = frozenset({"idle", "stopped"})

WORKER_MAIN = (sys.executable, "-m", "pipehouse.runtime.workers.main")
PROTOCOL_FD_VAR = "PIPEHOUSE_WORKER_FD"
"""The child's end of the protocol socket (a connected AF_UNIX stream socket)."""
ENVIRONMENT_VAR = "PIPEHOUSE_WORKER_ENVIRONMENT"
"""The environment directory the worker adds to `sys.path` (empty: host packages only)."""


SERVER_SECRETS = ("PIPEHOUSE_DATABASE_URL", "PIPEHOUSE_REDIS_URL")
"""Variables of the server a worker never sees (besides every PIPEHOUSE_*KEY*, *SECRET*,
*TOKEN*, *PASSWORD*): plugins reach the store and the other replicas through the server."""


def worker_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The server's environment without its own secrets (the admin key, upstream keys, the
    database's and Redis's URLs with their passwords). Everything else stays: plugins read
    variables such as OPENAI_API_KEY as they do in Open WebUI."""

    def secret(name: str) -> bool:
        if not name.startswith("PIPEHOUSE_"):
            return False
        return name in SERVER_SECRETS or any(
            word in name for word in ("KEY", "SECRET", "TOKEN", "PASSWORD")
        )

    return {name: value for name, value in environ.items() if not secret(name)}


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"


@dataclass(frozen=True)
class WorkerExit:
    """Why a worker process ended, as plain data the executor turns into call errors."""

    cause: Cause
    detail: str
    """For people: "exited with code 1", "killed by SIGSEGV", "used 612 MB, over ..."."""
    pid: int
    returncode: int | None = None
    plugin_id: str | None = None
    """The plugin the end is blamed on when it is known (the call that overran its deadline,
    the plugin that blocked the loop); None when several were running."""
    running: tuple[str, ...] = ()
    """Plugins that had calls in flight when the worker ended (see `WorkerProcess.call`)."""

    @property
    def crashed(self) -> bool:
        """False for an idle stop or shutdown: nothing went wrong, no call should fail."""
        return self.cause not in EXPECTED

    def error(self, plugin_id: str, *, stage: str = "call", path: str | None = None) -> PluginError:
        """The error a call of `plugin_id` that was in flight on this worker fails with."""
        blamed = self.plugin_id or (self.running[0] if len(self.running) == 1 else None)
        if blamed is None or blamed == plugin_id:
            message = f"its worker process {self.detail}"
        else:
            message = (
                f"its worker process {self.detail}, ended by plugin '{blamed}' running in the "
                "same worker"
            )
        return PluginError(
            plugin_id=plugin_id,
            message=message,
            path=path,
            error_type=_ERROR_TYPES[self.cause],
            stage=stage,
            hint=_HINTS[self.cause],
            details={"cause": self.cause, "pid": self.pid, "returncode": self.returncode},
        )


_ERROR_TYPES: dict[str, str] = {
    "exit": "WorkerExited",
    "signal": "WorkerKilled",
    "memory": "WorkerOutOfMemory",
    "deadline": "Timeout",
    "unresponsive": "WorkerUnresponsive",
    "idle": "WorkerStopped",
    "stopped": "WorkerStopped",
}
_HINTS: dict[str, str] = {
    "exit": "plugin code ended the process (os._exit, a C library's exit); a new worker starts",
    "signal": "the process crashed (a C extension's bug, a bad ctypes call); a new worker starts",
    "memory": "raise PIPEHOUSE_WORKER_MEMORY if the plugin really needs more",
    "deadline": "the call was stopped by ending its worker; raise the call timeout if it is slow",
    "unresponsive": "async plugin code must not block: use await (or a plain def, run on a thread)",
    "idle": "the worker was stopped after being idle",
    "stopped": "the server is stopping",
}


@dataclass
class WorkerLimits:
    """What a worker may use before it is ended (config: PIPEHOUSE_WORKER_*)."""

    memory: int | None = 2 * 1024**3
    """Bytes of resident memory (VmRSS); None: no limit."""
    idle: float | None = 300.0
    """Seconds without a call in flight before the worker stops; None: never."""
    unresponsive: float | None = 30.0
    """Seconds without a heartbeat from the worker's event loop before it is ended."""
    stall: float = 1.0
    """Seconds the worker's loop may be blocked before the plugin blocking it is reported."""
    crash_limit: int = 3
    crash_window: float = 60.0
    poll: float = 0.1
    """How often memory, heartbeats and idleness are checked."""

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerLimits:
        """The server's PIPEHOUSE_WORKER_* settings; a blocked loop is reported after
        PIPEHOUSE_LOOP_LAG_THRESHOLD, as in inline mode."""
        return cls(
            memory=settings.worker_memory,
            idle=settings.worker_idle,
            unresponsive=settings.worker_unresponsive,
            stall=settings.loop_lag_threshold or 1.0,
        )


class WorkerProcess:
    """One running worker: the protocol stream to it, its pid, what it runs, how it ended."""

    def __init__(
        self,
        supervisor: Supervisor,
        process: asyncio.subprocess.Process,
        environment: Path | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        beats: heartbeat.Listener,
        on_exit: Callable[[WorkerExit], None],
    ) -> None:
        self.environment = environment
        self.pool: Hashable = environment
        """What the supervisor's back-off counts this worker's crashes under."""
        self.reader = reader
        """The worker's protocol messages to the server."""
        self.writer = writer
        """The server's protocol messages to the worker."""
        self.exit: WorkerExit | None = None
        """Set once the process has ended and been reaped."""
        self._supervisor = supervisor
        self._process = process
        self._beats = beats
        self._on_exit = on_exit
        self._running: dict[str, int] = {}
        self._idle_since = time.monotonic()
        self._kill: tuple[Cause, str, str | None] | None = None
        self._reaped = asyncio.Event()
        self._reaper = asyncio.create_task(self._reap(), name=f"worker-{process.pid}-reaper")

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def alive(self) -> bool:
        return self.exit is None and self._kill is None

    @property
    def running(self) -> tuple[str, ...]:
        """Plugins with calls in flight on this worker, as told through `call`."""
        return tuple(self._running)

    def rss(self) -> int:
        """Resident memory of the worker process in bytes (0 once it is gone)."""
        return resident_bytes(self.pid)

    def started(self, plugin_id: str) -> None:
        """A call of `plugin_id` was sent to this worker (`finished` when it is over): it
        names the plugins a crash is blamed on and keeps the worker from being stopped as idle
        while calls are in flight. `Connection` says both for every call it carries."""
        self._running[plugin_id] = self._running.get(plugin_id, 0) + 1

    def finished(self, plugin_id: str) -> None:
        left = self._running[plugin_id] - 1
        if left:
            self._running[plugin_id] = left
        else:
            del self._running[plugin_id]
            if not self._running:
                self._idle_since = time.monotonic()

    @contextlib.contextmanager
    def call(self, plugin_id: str) -> Iterator[None]:
        """`started` and `finished` around a block."""
        self.started(plugin_id)
        try:
            yield
        finally:
            self.finished(plugin_id)

    async def kill(
        self, cause: Cause, *, plugin_id: str | None = None, detail: str = ""
    ) -> WorkerExit:
        """End the worker now (SIGKILL to its process group) and wait until it is reaped.

        `cause` and `plugin_id` are what its `WorkerExit` will say (e.g. "deadline" and the
        plugin whose call overran); the first kill's cause wins if two race."""
        if self.exit is None and self._kill is None:
            self._kill = (cause, detail or _DEFAULT_DETAIL[cause], plugin_id)
            _kill_group(self.pid)
        await self._reaped.wait()
        assert self.exit is not None
        return self.exit

    async def wait(self) -> WorkerExit:
        """Until the process has ended; how it ended."""
        await self._reaped.wait()
        assert self.exit is not None
        return self.exit

    def _check(self, now: float, limits: WorkerLimits) -> None:
        """One look at memory, heartbeat and idleness (the supervisor's watch calls it)."""
        if not self.alive:
            return
        if limits.memory is not None:
            used = self.rss()
            if used > limits.memory:
                blamed = self.running[0] if len(self._running) == 1 else None
                detail = (
                    f"used {_mb(used)} of memory, over its {_mb(limits.memory)} limit "
                    "(PIPEHOUSE_WORKER_MEMORY)"
                )
                self._end("memory", detail, blamed)
                return
        stall = self._beats.stall
        late = self._beats.late(now)
        if limits.unresponsive is not None and late is not None and late > limits.unresponsive:
            blamed = stall.plugin_id if stall is not None else None
            where = f" in plugin '{blamed}'" if blamed else ""
            detail = f"stopped answering: its event loop was blocked{where} for {late:.0f} s"
            self._end("unresponsive", detail, blamed)
            return
        if limits.idle is not None and not self._running and now - self._idle_since > limits.idle:
            self._end("idle", f"stopped after {limits.idle:g} s idle", None)

    def _end(self, cause: Cause, detail: str, plugin_id: str | None) -> None:
        if self._kill is None and self.exit is None:
            self._kill = (cause, detail, plugin_id)
            if cause != "idle":
                log.warning("worker %s (pid %s) %s; ending it", self._label(), self.pid, detail)
            _kill_group(self.pid)

    def _label(self) -> str:
        return self.environment.name if self.environment else "host"

    async def _reap(self) -> None:
        returncode = await self._process.wait()
        _kill_group(self.pid)  # whatever it started goes with it
        self._beats.close()
        with contextlib.suppress(Exception):
            self.writer.close()
        if self._kill is not None:
            cause, detail, plugin_id = self._kill
        elif returncode < 0:
            cause, plugin_id = "signal", None
            detail = f"was killed by {_signal_name(-returncode)}"
        else:
            cause, plugin_id = "exit", None
            detail = f"exited with code {returncode}"
        self.exit = WorkerExit(
            cause=cause,
            detail=detail,
            pid=self.pid,
            returncode=returncode,
            plugin_id=plugin_id,
            running=self.running,
        )
        self._reaped.set()
        self._supervisor._ended(self)
        try:
            self._on_exit(self.exit)
        except Exception:
            log.exception("the owner of worker %s failed to handle its exit", self.pid)


_DEFAULT_DETAIL: dict[str, str] = {
    "exit": "exited",
    "signal": "was killed",
    "memory": "used more memory than its limit (PIPEHOUSE_WORKER_MEMORY)",
    "deadline": "was ended because a call ran past its deadline",
    "unresponsive": "stopped answering",
    "idle": "was stopped after being idle",
    "stopped": "was stopped with the server",
}


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def resident_bytes(pid: int) -> int:
    """VmRSS of a process from /proc (Linux); 0 when it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class _Record:
    """Recent crashes, for the back-off of an environment and the failing mark of a plugin."""

    times: deque[float] = field(default_factory=deque)

    def add(self, now: float, window: float) -> int:
        self.times.append(now)
        while self.times and now - self.times[0] > window:
            self.times.popleft()
        return len(self.times)


class Supervisor:
    """Starts worker processes and watches them until they end (one per server)."""

    def __init__(
        self,
        limits: WorkerLimits | None = None,
        *,
        command: Sequence[str] = WORKER_MAIN,
        on_failing: Callable[[str, WorkerExit], None] | None = None,
        on_stall: Callable[[WorkerProcess, heartbeat.StallReport], None] | None = None,
    ) -> None:
        self.limits = limits or WorkerLimits()
        self.command = tuple(command)
        self.on_failing = on_failing
        """Called once when a plugin is marked failing (the service shows it in its status)."""
        self.on_stall = on_stall
        """Called when a worker reports its loop blocked (by which plugin), before any kill."""
        self.workers: set[WorkerProcess] = set()
        self.failing: dict[str, WorkerExit] = {}
        """Plugins that ended their worker too often, and the last time's cause."""
        self._plugin_crashes: dict[str, _Record] = {}
        self._pool_crashes: dict[Hashable, _Record] = {}
        self._watch: asyncio.Task[None] | None = None

    async def spawn(
        self,
        environment: Path | None,
        *,
        on_exit: Callable[[WorkerExit], None],
        pool: Hashable | None = None,
    ) -> WorkerProcess:
        """Start a worker for `environment` (after the back-off if the workers of its `pool`
        keep dying; the pool is the environment unless the owner says otherwise).

        `on_exit` is called once, on the event loop, when the process has ended and been
        reaped, with why it ended; by then `worker.exit` is set too."""
        pool = environment if pool is None else pool
        await asyncio.sleep(self.backoff(pool))
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        beats = heartbeat.Listener(self.limits.stall, self._stalled)
        env = worker_environ(os.environ)
        env[PROTOCOL_FD_VAR] = str(child.fileno())
        env[heartbeat.FD_VAR] = str(beats.child_fd)
        env[heartbeat.STALL_VAR] = repr(self.limits.stall)
        env[ENVIRONMENT_VAR] = str(environment) if environment else ""
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.DEVNULL,
                env=env,
                pass_fds=(child.fileno(), beats.child_fd),
                start_new_session=True,  # its own process group: one killpg ends everything
            )
        except BaseException:
            parent.close()
            beats.close()
            raise
        finally:
            child.close()
            beats.close_child()
        reader, writer = await asyncio.open_unix_connection(sock=parent, limit=2**24)
        worker = WorkerProcess(self, process, environment, reader, writer, beats, on_exit)
        worker.pool = pool
        beats.start(worker)
        self.workers.add(worker)
        self._ensure_watch()
        return worker

    def backoff(self, pool: Hashable) -> float:
        """Seconds to wait before starting a worker for `pool`: 0 unless its workers crashed
        recently, then 0.25 s doubling per recent crash, at most 10 s."""
        record = self._pool_crashes.get(pool)
        if record is None:
            return 0.0
        now = time.monotonic()
        recent = [t for t in record.times if now - t <= self.limits.crash_window]
        if not recent:
            return 0.0
        return min(0.25 * 2 ** (len(recent) - 1), 10.0)

    def failing_error(
        self, plugin_id: str, *, stage: str = "call", path: str | None = None
    ) -> PluginError | None:
        """Why the plugin is not started again, or None when it may run."""
        last = self.failing.get(plugin_id)
        if last is None:
            return None
        return PluginError(
            plugin_id=plugin_id,
            message=(
                f"not started again: it ended its worker {self.limits.crash_limit} times within "
                f"{self.limits.crash_window:g} s; last time its worker process {last.detail}"
            ),
            path=path,
            error_type="PluginFailing",
            stage=stage,
            hint="fix the plugin and save it again (or reload it) to clear this",
            details={"cause": last.cause},
        )

    def check(self, plugin_id: str, *, stage: str = "call", path: str | None = None) -> None:
        """Raise the plugin's error if it is marked failing (call before sending it a call)."""
        error = self.failing_error(plugin_id, stage=stage, path=path)
        if error is not None:
            raise error

    def forgive(self, plugin_id: str) -> None:
        """Clear a plugin's failing mark and crash count (its code was changed or reloaded)."""
        self.failing.pop(plugin_id, None)
        self._plugin_crashes.pop(plugin_id, None)

    async def close(self) -> None:
        """Stop every worker (cause "stopped") and the watch."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        await asyncio.gather(
            *(w.kill("stopped") for w in list(self.workers)), return_exceptions=True
        )

    def _ensure_watch(self) -> None:
        if self._watch is None or self._watch.done():
            self._watch = asyncio.create_task(self._watching(), name="worker-supervisor")

    async def _watching(self) -> None:
        while self.workers:
            await asyncio.sleep(self.limits.poll)
            now = time.monotonic()
            for worker in list(self.workers):
                try:
                    worker._check(now, self.limits)
                except Exception:
                    log.exception("checking worker %s failed", worker.pid)

    def _stalled(self, worker: WorkerProcess, report: heartbeat.StallReport) -> None:
        where = f"plugin '{report.plugin_id}' ({report.path}:{report.line})"
        log.warning(
            "%s has blocked the event loop of its worker (pid %s) for over %s s; the calls "
            "sharing that worker wait. hint: %s",
            where if report.plugin_id else "code outside any plugin",
            worker.pid,
            self.limits.stall,
            _HINTS["unresponsive"],
        )
        if self.on_stall is not None:
            self.on_stall(worker, report)

    def _ended(self, worker: WorkerProcess) -> None:
        self.workers.discard(worker)
        ended = worker.exit
        assert ended is not None
        if not ended.crashed:
            return
        now = time.monotonic()
        self._pool_crashes.setdefault(worker.pool, _Record()).add(now, self.limits.crash_window)
        blamed = (ended.plugin_id,) if ended.plugin_id else ended.running
        if len(blamed) != 1:
            return  # several plugins were running and nothing says which: blame none
        (plugin_id,) = blamed
        count = self._plugin_crashes.setdefault(plugin_id, _Record()).add(
            now, self.limits.crash_window
        )
        if count >= self.limits.crash_limit and plugin_id not in self.failing:
            self.failing[plugin_id] = ended
            log.error(
                "plugin '%s' ended its worker %s times within %s s (last: %s); it is marked "
                "failing and will not be started again until it changes",
                plugin_id,
                count,
                self.limits.crash_window,
                ended.detail,
            )
            if self.on_failing is not None:
                self.on_failing(plugin_id, ended)
