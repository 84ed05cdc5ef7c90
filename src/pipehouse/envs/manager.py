"""Every environment of one data dir: built in the background, one install per environment at a
time (a file lock per environment, so replicas sharing the data dir build each once), reused
across restarts, rebuilt and pruned when asked."""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from filelock import FileLock, Timeout

from pipehouse.envs.builder import SITE, build, size_of, step_of
from pipehouse.envs.errors import EnvironmentBuildError
from pipehouse.envs.host import host_digest
from pipehouse.envs.spec import EnvironmentSpec, is_key
from pipehouse.envs.state import EnvState

log = logging.getLogger(__name__)

PARALLEL_INSTALLS = 2  # more only competes for the same network and disk
LOCK_POLL = 0.2  # seconds between tries of a lock another process holds


class Environments:
    """`<root>/<key>/site` holds the packages, `<root>/<key>/environment.json` the state,
    `<root>/.locks/<key>.lock` the build lock; uv's download cache is `<root>/.uv-cache` unless
    `UV_CACHE_DIR` is set. `offline` (PIPEHOUSE_OFFLINE): builds use the package cache only."""

    def __init__(self, root: Path, *, offline: bool = False) -> None:
        self.root = root
        self.offline = offline
        self.cache_dir = root / ".uv-cache"
        self._states: dict[str, EnvState] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._done: dict[str, list[Callable[[EnvState], None]]] = {}
        self._slots: asyncio.Semaphore | None = None

    # -- reading ------------------------------------------------------------------------------
    def site(self, key: str) -> Path:
        return self.root / key / SITE

    def state(self, key: str) -> EnvState | None:
        """This server's view when it has built or is building it, else what the disk says."""
        if not is_key(key):  # a key from a URL never names a path outside the root
            return None
        return self._states.get(key) or EnvState.load(self.root / key)

    def list(self) -> list[EnvState]:
        keys = set(self._states)
        if self.root.is_dir():
            keys |= {p.name for p in self.root.iterdir() if p.is_dir() and p.name[:1] != "."}
        found = [s for key in sorted(keys) if (s := self.state(key)) is not None]
        return sorted(found, key=lambda s: s.created)

    def _ready(self, state: EnvState | None) -> bool:
        return (
            state is not None
            and state.state == "ready"
            and state.host == host_digest()
            and self.site(state.key).is_dir()
        )

    # -- building -----------------------------------------------------------------------------
    def ensure(self, spec: EnvironmentSpec, plugin_id: str | None = None) -> EnvState:
        """The environment's state, its build started when it is not built yet. One that failed
        in this run stays failed until `rebuild` (a retry asked for); after a restart it is
        tried again."""
        key = spec.key
        state = self.state(key)
        if state is not None and (self._ready(state) or key in self._tasks or key in self._states):
            self._note_plugin(state, plugin_id)
            return state
        return self._start(spec, plugin_id, force=False)

    def rebuild(self, key: str) -> EnvState:
        """Build again from scratch (a failed install retried, or a suspect one redone)."""
        known = self.state(key)
        if known is None:
            raise KeyError(key)
        if key in self._tasks:
            return known
        spec = EnvironmentSpec(tuple(known.requirements))
        state = self._start(spec, None, force=True)
        state.plugins = list(known.plugins)
        return state

    def on_done(self, key: str, callback: Callable[[EnvState], None]) -> None:
        """Call `callback` once the build running for `key` ends (ready or failed)."""
        self._done.setdefault(key, []).append(callback)

    async def wait(self, key: str) -> EnvState | None:
        task = self._tasks.get(key)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        return self.state(key)

    async def close(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        for task in list(self._tasks.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _note_plugin(self, state: EnvState, plugin_id: str | None) -> None:
        if plugin_id and plugin_id not in state.plugins:
            state.plugins.append(plugin_id)
            self._states.setdefault(state.key, state)

    def _start(self, spec: EnvironmentSpec, plugin_id: str | None, *, force: bool) -> EnvState:
        state = EnvState(spec.key, list(spec.requirements), host=host_digest())
        self._note_plugin(state, plugin_id)
        self._states[spec.key] = state
        self._tasks[spec.key] = asyncio.create_task(
            self._run(state, force=force), name=f"environment-{spec.key}"
        )
        log.info("environment %s queued: %s", spec.key, ", ".join(spec.requirements))
        return state

    async def _run(self, state: EnvState, *, force: bool) -> None:
        directory = self.root / state.key
        if self._slots is None:
            self._slots = asyncio.Semaphore(PARALLEL_INSTALLS)
        try:
            async with self._slots:
                lock = FileLock(self.root / ".locks" / f"{state.key}.lock")
                (self.root / ".locks").mkdir(parents=True, exist_ok=True)
                await self._acquire(lock, state)
                try:
                    await self._build_locked(state, directory, force=force)
                finally:
                    lock.release()
        except EnvironmentBuildError as error:
            self._failed(state, directory, error.message, error.tail)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # an unreadable disk, a missing uv: said, not hidden
            log.exception("environment %s could not be built", state.key)
            self._failed(state, directory, f"{type(error).__name__}: {error}", [])
        finally:
            self._tasks.pop(state.key, None)
            for callback in self._done.pop(state.key, []):
                try:
                    callback(state)
                except Exception:
                    log.exception("after environment %s", state.key)

    async def _acquire(self, lock: FileLock, state: EnvState) -> None:
        """Another process (a replica sharing the data dir) may be building it: wait for it."""
        while True:
            try:
                lock.acquire(timeout=0)
                return
            except Timeout:
                state.step = "waiting for another pipehouse process that is building it"
                await asyncio.sleep(LOCK_POLL)

    async def _build_locked(self, state: EnvState, directory: Path, *, force: bool) -> None:
        built = EnvState.load(directory)
        if not force and self._ready(built):  # another process built it meanwhile
            assert built is not None
            built.plugins = sorted({*built.plugins, *state.plugins})
            self._adopt(state, built)
            return
        state.state, state.step, state.error = "installing", "resolving", None
        state.progress.clear()
        state.save(directory)
        log.info("environment %s installing: %s", state.key, ", ".join(state.requirements))

        def on_line(line: str) -> None:
            state.line(line)
            log.info("environment %s: %s", state.key, line)
            step = step_of(line)
            if step is not None:
                state.step = step
                state.save(directory)

        site = await build(
            state.requirements,
            directory,
            offline=self.offline,
            cache_dir=None if "UV_CACHE_DIR" in os.environ else self.cache_dir,
            on_line=on_line,
        )
        state.size = size_of(site)
        state.state, state.step = "ready", "ready"
        state.save(directory)
        log.info("environment %s ready (%d bytes)", state.key, state.size)

    def _adopt(self, state: EnvState, built: EnvState) -> None:
        for name in ("state", "step", "progress", "error", "size", "created", "host"):
            setattr(state, name, getattr(built, name))
        state.plugins = built.plugins

    # `builtins.list`: below `def list`, a plain `list` in an annotation names that method
    def _failed(
        self, state: EnvState, directory: Path, message: str, tail: builtins.list[str]
    ) -> None:
        state.state, state.step, state.error = "failed", "failed", message
        for line in tail:
            if line not in state.progress:
                state.line(line)
        with contextlib.suppress(OSError):
            state.save(directory)
        log.error("environment %s failed: %s", state.key, message)

    # -- cleaning -----------------------------------------------------------------------------
    def prune(self, keep: Iterable[str] | None = None) -> builtins.list[str]:
        """Remove environments built for another host (a different Python or pipehouse
        packages: never used again) and failed ones; with `keep`, also every environment not in
        it. One being built, here or by another process, stays. Returns the keys removed."""
        kept = None if keep is None else set(keep)
        removed = []
        for state in self.list():
            key = state.key
            stale = state.host != host_digest() or state.state == "failed"
            unused = kept is not None and key not in kept
            if key in self._tasks or not (stale or unused):
                continue
            lock = FileLock(self.root / ".locks" / f"{key}.lock")
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue
            try:
                shutil.rmtree(self.root / key, ignore_errors=True)
            finally:
                lock.release()
            self._states.pop(key, None)
            removed.append(key)
            log.info("environment %s removed", key)
        return removed
