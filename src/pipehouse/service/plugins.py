"""The installed plugins: rows in the store, live instances in the executor, entries in the
catalog requests read, kept in step.

Two sources live side by side: plugins created through the REST API (stored code) and files in
`--plugins` directories (watched; a changed file reloads only that plugin). A plugin that fails
to load keeps serving its last good version and keeps its active flag: a passing failure (a
typo mid-edit, a network hiccup during an install) never switches anything off, unlike Open
WebUI (Open WebUI 0.12.4 utils/plugin.py). The failure is kept in `status` for the API and the logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipehouse.config import Settings
from pipehouse.envs import Environments
from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.ids import id_problem
from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind, PluginTable
from pipehouse.plugin.loader import plugin_id_from_path
from pipehouse.plugin.valves import MASK, mask, shown
from pipehouse.runtime.catalog import Catalog
from pipehouse.runtime.chat import ChatRuntime
from pipehouse.runtime.executor import Executor, PluginSource
from pipehouse.runtime.loop_lag import HINT as LOOP_HINT
from pipehouse.runtime.loop_lag import Stall
from pipehouse.service.plugin_envs import (
    PENDING,
    EnvironmentPending,
    PluginEnvironments,
    provisional_info,
)
from pipehouse.service.valves import DatabaseValves
from pipehouse.store.models import Function, PluginVersion, Tool
from pipehouse.store.plugins import PluginStore

log = logging.getLogger(__name__)

NOT_FOUND = "We could not find what you're looking for :/"  # Open WebUI's words


async def _unshared(topic: str, key: str) -> None:
    """A server on its own has nobody to tell."""


class ServiceError(Exception):
    """A request about plugins that cannot be done; `status` is the HTTP status."""

    def __init__(self, status: int, detail: Any) -> None:
        self.status = status
        self.detail = detail
        super().__init__(str(detail))


@dataclass
class Status:
    state: str = "loaded"  # loaded | error | missing | failing (ended its worker too often)
    error: dict[str, Any] | None = None
    loop_stall: dict[str, Any] | None = None  # the last time it blocked the event loop, if ever
    # the environment it runs in (service/plugin_envs.py): queued | installing | ready | failed
    environment: dict[str, Any] | None = None


def build_row(
    info: PluginInfo,
    existing: Function | Tool | None,
    *,
    name: str,
    content: str,
    meta: dict[str, Any],
    source: str,
    path: str | None,
    user_id: str,
    starts_enabled: bool,
) -> Function | Tool:
    """The row to save for loaded code. It keeps what a save must not change (owner, valves,
    creation time, flags); a new function starts enabled or not by `starts_enabled`: directory
    files do, functions created through the API do not (as in Open WebUI)."""
    meta = {"description": info.description, **meta, "manifest": info.frontmatter}
    fields: dict[str, Any] = {
        "id": info.id,
        "user_id": existing.user_id if existing is not None else user_id,
        "name": name,
        "content": content,
        "meta": meta,
        "valves": existing.valves if existing is not None else None,
        "source": source,
        "path": path,
    }
    if existing is not None:
        fields["created_at"] = existing.created_at
    if info.kind is PluginKind.TOOLS:
        meta["has_user_valves"] = info.has_user_valves
        return Tool(specs=info.tool_specs, **fields)
    meta["toggle"] = info.toggle
    kept = existing if isinstance(existing, Function) else None
    return Function(
        type="pipeline" if info.kind is PluginKind.PIPELINE else info.kind.value,
        is_active=kept.is_active if kept is not None else starts_enabled,
        is_global=kept.is_global if kept is not None else starts_enabled,
        **fields,
    )


def row_kind(row: Function | Tool) -> PluginTable:
    return PluginTable.TOOL if isinstance(row, Tool) else PluginTable.FUNCTION


def keep_masked(
    data: Mapping[str, Any], secret: Iterable[str], stored: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A posted valves form where a secret still shows the mask (or a URL its masked password)
    means "keep the stored value": a form that round-trips what it read must not overwrite the
    secret with asterisks. With nothing stored, the field keeps the plugin's own value."""
    hidden = set(secret)
    kept = {}
    for name, value in data.items():
        has_stored = stored is not None and name in stored
        if stored is not None and has_stored and value == shown(stored[name], name in hidden):
            kept[name] = stored[name]
        elif (value == MASK and name in hidden) or (_masked_url(value) and not has_stored):
            continue  # nothing stored: the plugin's own value stays
        else:
            kept[name] = value
    return kept


def _masked_url(value: Any) -> bool:
    return isinstance(value, str) and f":{MASK}@" in value


class PluginService:
    def __init__(
        self,
        settings: Settings,
        store: PluginStore,
        valves: DatabaseValves,
        executor: Executor,
        catalog: Catalog,
        runtime: ChatRuntime,
        environments: Environments | None = None,
    ) -> None:
        self.settings = settings
        self.environments = PluginEnvironments(environments)
        self._followups: set[asyncio.Task[None]] = set()
        self.store = store
        self.valves = valves
        self.executor = executor
        self.catalog = catalog
        self.runtime = runtime
        self.status: dict[str, Status] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()
        # tells other replicas what changed (service/replication.py); set by the app
        self.announce: Callable[[str, str], Awaitable[None]] = _unshared

    # -- start and stop -----------------------------------------------------------------------
    async def start(self) -> None:
        missing = [d for d in self.settings.plugin_dirs if not d.is_dir()]
        if missing:
            raise FileNotFoundError(f"plugin directory {missing[0]} does not exist")
        rows: list[Function | Tool] = [*await self.store.functions.all()]
        rows += await self.store.tools.all()
        for row in rows:
            if row.source == "directory" and not self._served_here(row.path):
                continue  # a file of another run's --plugins: its row waits for that run
            if row.source == "directory" and not (row.path and Path(row.path).is_file()):
                self.status[row.id] = Status("missing", {"message": f"{row.path} is gone"})
                self.valves.remember(row.id, row_kind(row), row.valves)
                continue
            await self._activate(row)
        for path in self._directory_files():
            await self.sync_file(path)
        if self.settings.watch and self.settings.plugin_dirs:
            self._watcher = asyncio.create_task(self._watch(), name="plugin-watcher")

    async def stop(self) -> None:
        self._stop.set()
        await self.environments.close()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watcher

    def _served_here(self, path: str | None) -> bool:
        """Whether a directory plugin's file lies in one of this run's --plugins directories."""
        if not path:
            return False
        parent = Path(path).parent.resolve()
        return any(parent == d.resolve() for d in self.settings.plugin_dirs)

    def _directory_files(self) -> list[Path]:
        files = []
        for directory in self.settings.plugin_dirs:
            if not directory.is_dir():  # removed while serving: start() refuses a missing one
                log.error("plugin directory %s does not exist", directory)
                continue
            files += sorted(p for p in directory.glob("*.py") if not p.name.startswith(("_", ".")))
        return files

    async def _watch(self) -> None:
        from watchfiles import Change, awatch

        dirs = [d for d in self.settings.plugin_dirs if d.is_dir()]
        async for changes in awatch(*dirs, stop_event=self._stop, recursive=False):
            for change, raw in sorted(changes, key=lambda c: c[1]):
                path = Path(raw)
                if path.suffix != ".py" or path.name.startswith(("_", ".")):
                    continue
                try:
                    if change is Change.deleted or not path.exists():
                        await self.file_removed(path)
                    else:
                        await self.sync_file(path)
                except Exception:  # the watcher must outlive any one bad file
                    log.exception("reloading %s failed", path)

    # -- loading ------------------------------------------------------------------------------
    async def _load(
        self, plugin_id: str, content: str, path: str | None, kind: PluginKind | None
    ) -> PluginInfo:
        environments = self.environments
        environments.paths[plugin_id] = path
        try:
            info = await environments.load(
                plugin_id,
                content,
                lambda env: self.executor.load(PluginSource(plugin_id, content, path, kind, env)),
            )
        except EnvironmentPending as pending:
            state = pending.state
            self.status[plugin_id] = Status(state.state, pending.to_dict(), None, state.to_dict())
            environments.when_done(plugin_id, lambda: self._environment_done(plugin_id, path))
            log.info("plugin %s waits for its environment %s", plugin_id, pending.state.key)
            raise
        except PluginError as error:
            environment = environments.state_of(plugin_id)
            self.status[plugin_id] = Status("error", error.to_dict(), None, environment)
            log.error("plugin %s failed to load: %s", plugin_id, error)
            raise
        self.status[plugin_id] = Status("loaded", environment=environments.state_of(plugin_id))
        self.runtime.forget_models(plugin_id)
        return info

    def _environment_done(self, plugin_id: str, path: str | None) -> None:
        """Its environment was built (or failed): load the plugin in it, without a restart."""
        task = asyncio.create_task(self._load_built(plugin_id, path), name=f"load-{plugin_id}")
        self._followups.add(task)
        task.add_done_callback(self._followups.discard)

    async def _load_built(self, plugin_id: str, path: str | None) -> None:
        try:
            if path is not None and Path(path).is_file():
                await self.sync_file(Path(path))
                return
            async with self._lock:
                row = await self.store.functions.get(plugin_id) or await self.store.tools.get(
                    plugin_id
                )
                if row is None or row.source == "directory":
                    return
                info = await self._activate(row)
                if info is not None and isinstance(row, Tool) and row.specs != info.tool_specs:
                    await self.store.tools.update(plugin_id, specs=info.tool_specs)
        except Exception:
            log.exception("loading %s in its new environment failed", plugin_id)

    async def retry_environment(self, plugin_id: str) -> dict[str, Any]:
        """Build a plugin's environment again (a failed install retried) and load it after."""
        state = self.environments.retry(plugin_id)
        if state is None:
            raise ServiceError(404, f"'{plugin_id}' has no environment of its own")
        file = self.environments.paths.get(plugin_id)
        self.environments.when_done(plugin_id, lambda: self._environment_done(plugin_id, file))
        current = self.status.get(plugin_id)
        if current is None or current.state != "loaded":
            self.status[plugin_id] = Status(state.state, None, None, state.to_dict())
        return state.to_dict()

    def building(self, model_id: str) -> dict[str, Any] | None:
        """The environment being built for the plugin serving `model_id` (a manifold's models
        are `<plugin>.<sub>`), or None when it is not waiting for one."""
        for plugin_id in (model_id, model_id.split(".", 1)[0]):
            status = self.status.get(plugin_id)
            if status is not None and status.state in PENDING and not self.catalog.get(plugin_id):
                return self.environments.state_of(plugin_id) or status.environment
        return None

    def _publish(self, row: Function | Tool, info: PluginInfo) -> None:
        flags = (
            {"active": row.is_active, "is_global": row.is_global}
            if isinstance(row, Function)
            else {}
        )
        if row.source != "directory":
            # Open WebUI lists the name and description the admin gave (its `function` row);
            # a directory file has no such row, so it keeps its frontmatter's.
            description = (row.meta or {}).get("description")
            info = replace(
                info,
                name=row.name or info.name,
                description=description if isinstance(description, str) else info.description,
            )
        self.catalog.add(info, created_at=row.created_at, **flags)
        self.valves.remember(row.id, row_kind(row), row.valves)

    async def _activate(self, row: Function | Tool) -> PluginInfo | None:
        kind = PluginKind.TOOLS if isinstance(row, Tool) else None
        try:
            info = await self._load(row.id, row.content, row.path, kind)
        except PluginError:
            self.valves.remember(row.id, row_kind(row), row.valves)
            return None
        self._publish(row, info)
        return info

    async def sync_file(self, path: Path) -> PluginInfo | None:
        """Load or reload one directory file; its row keeps flags and valves across reloads."""
        path = path.resolve()
        plugin_id = plugin_id_from_path(path)
        async with self._lock:
            existing = await self.store.functions.get(plugin_id) or await self.store.tools.get(
                plugin_id
            )
            if existing is not None and existing.source != "directory":
                self.status[plugin_id] = Status(
                    "error", {"message": f"{path} has the id of a plugin created through the API"}
                )
                log.error(
                    "skipping %s: the id %r belongs to a plugin created through the API",
                    path,
                    plugin_id,
                )
                return None
            if existing is not None and existing.path and Path(existing.path) != path:
                if Path(existing.path).exists() and self._served_here(existing.path):
                    log.error(
                        "skipping %s: %s already provides the plugin %r",
                        path,
                        existing.path,
                        plugin_id,
                    )
                    return None
                # another file took the id (the old one is gone or outside this run's
                # directories): a different plugin, which starts with flags and valves of its own
                await self._rows(row_kind(existing)).delete(plugin_id)
                existing = None
            content = path.read_text(encoding="utf-8")
            try:
                info = await self._load(plugin_id, content, str(path), None)
            except PluginError:
                return None
            row = build_row(
                info,
                existing,
                name=info.name,
                content=content,
                meta={},
                source="directory",
                path=str(path),
                user_id="",
                starts_enabled=True,
            )
            if existing is not None and row_kind(existing) != row_kind(row):
                await self._rows(row_kind(existing)).delete(plugin_id)
            saved = await self._rows(row_kind(row)).save(
                row, user_id=None, message=f"file {path.name}"
            )
            self._publish(saved, info)
            log.info("loaded %s %s from %s", info.kind.value, plugin_id, path)
            return info

    async def rescan(self) -> None:
        """Load every plugin again, as the Pipelines server's reload does, but without
        restarting what did not change: loads are cached by content, so unchanged code keeps its
        instance; changed files and plugins that failed before load anew, and directory files
        that are gone are unloaded. For servers that do not watch, or changes a watcher missed."""
        rows: list[Function | Tool] = [*await self.store.functions.all()]
        rows += await self.store.tools.all()
        for row in rows:
            if row.source == "directory":
                if row.path and self._served_here(row.path) and not Path(row.path).is_file():
                    await self.file_removed(Path(row.path))
                continue
            async with self._lock:
                await self._activate(row)
        for path in self._directory_files():
            await self.sync_file(path)

    async def file_removed(self, path: Path) -> None:
        plugin_id = plugin_id_from_path(path)
        entry = self.catalog.get(plugin_id)
        if entry is None or entry.info.path != str(path.resolve()):
            status = self.status.get(plugin_id)
            if entry is None and status and (status.error or {}).get("path") == str(path.resolve()):
                del self.status[plugin_id]  # a file that never loaded is simply gone
            return
        self.catalog.remove(plugin_id)
        await self.executor.unload(plugin_id)
        self.runtime.forget_models(plugin_id)
        self.status[plugin_id] = Status("missing", {"message": f"{path} was removed"})
        log.info("unloaded %s: %s was removed", plugin_id, path)

    async def refresh(self, plugin_id: str) -> None:
        """Another replica changed this plugin: serve what the database holds now (its code,
        flags and valves), or stop serving it when its row is gone."""
        async with self._lock:
            row = await self.store.functions.get(plugin_id) or await self.store.tools.get(
                plugin_id
            )
            if row is None:
                self.catalog.remove(plugin_id)
                self.valves.forget(plugin_id)
                self.status.pop(plugin_id, None)
                await self.executor.unload(plugin_id)
                self.runtime.forget_models(plugin_id)
            elif row.source != "directory" or self._served_here(row.path):
                await self._activate(row)

    def _rows(self, kind: PluginTable) -> Any:
        return self.store.tools if kind is PluginTable.TOOL else self.store.functions

    # -- changes through the API --------------------------------------------------------------
    async def _load_for_save(
        self,
        kind: PluginTable,
        plugin_id: str,
        content: str,
        previous: str | None,
        *,
        pipeline_files: bool = False,
    ) -> PluginInfo:
        """Load new code, or raise a 400 that says which line is wrong. Rejected code never
        becomes the plugin: what ran before keeps running, with its status. A Pipelines-server
        file (`class Pipeline`) is a function only where `pipeline_files` allows it."""
        wanted = PluginKind.TOOLS if kind is PluginTable.TOOL else None
        before = self.status.get(plugin_id)
        try:
            info = await self._load(plugin_id, content, None, wanted)
        except EnvironmentPending:  # saved now, loaded by itself once its environment is built
            info = provisional_info(plugin_id, content, wanted)
        except PluginError as error:
            self._set_status(plugin_id, before)
            raise ServiceError(400, error.to_dict()) from error
        pipeline = pipeline_files and info.kind is PluginKind.PIPELINE
        if kind is PluginTable.FUNCTION and not (info.kind.is_function or pipeline):
            await self._restore(kind, plugin_id, previous, before)
            classes = "Pipe, Filter, Action or Event"
            if pipeline_files:
                classes = f"Pipeline, {classes}"
            raise ServiceError(400, f"No Function class found in the module ({classes})")
        return info

    def _set_status(self, plugin_id: str, status: Status | None) -> None:
        if status is None:
            self.status.pop(plugin_id, None)
        else:
            self.status[plugin_id] = status

    async def _restore(
        self, kind: PluginTable, plugin_id: str, previous: str | None, status: Status | None
    ) -> None:
        """Put back the stored code after a rejected save (or nothing, for a new id)."""
        wanted = PluginKind.TOOLS if kind is PluginTable.TOOL else None
        if previous is None:
            await self.executor.unload(plugin_id)
        else:
            await self._load(plugin_id, previous, None, wanted)
        self._set_status(plugin_id, status)

    async def save(
        self,
        kind: PluginTable,
        plugin_id: str,
        *,
        name: str,
        content: str,
        meta: dict[str, Any] | None,
        user_id: str,
        message: str | None = None,
        create: bool,
        pipeline_files: bool = False,
    ) -> Function | Tool:
        if create and (problem := id_problem(plugin_id)) is not None:
            raise ServiceError(400, problem)
        rows = self._rows(kind)
        async with self._lock:
            existing = await rows.get(plugin_id)
            other = await self._rows(kind.other).get(plugin_id)
            if create and (existing is not None or other is not None):
                raise ServiceError(
                    400, "Uh-oh! This id is already registered. Please choose another id string."
                )
            if not create and existing is None:
                raise ServiceError(404, "We could not find what you're looking for :/")
            if existing is not None and existing.source == "directory":
                raise ServiceError(
                    403, f"'{plugin_id}' comes from the file {existing.path}; edit the file instead"
                )
            previous = existing.content if existing is not None else None
            before = self.status.get(plugin_id)
            info = await self._load_for_save(
                kind, plugin_id, content, previous, pipeline_files=pipeline_files
            )
            pending = self.state(plugin_id).state in PENDING
            if existing is not None and existing.valves and not pending:
                try:
                    await self.executor.validate_valves(plugin_id, existing.valves)
                except PluginError as error:
                    if not all(e.get("type") == "missing" for e in error.details.get("errors", [])):
                        await self._restore(kind, plugin_id, previous, before)
                        raise ServiceError(
                            400, f"Current Valves are incompatible with this code: {error.message}"
                        ) from error
            row = build_row(
                info,
                existing,
                name=name,
                content=content,
                meta=meta or {},
                source="api",
                path=None,
                user_id=user_id,
                starts_enabled=False,
            )
            saved = await rows.save(row, user_id=user_id, message=message)
            if pending:  # what ran before (if anything) serves until the new code loads
                self.valves.remember(saved.id, row_kind(saved), saved.valves)
            else:
                self._publish(saved, info)
            await self.announce("plugin", plugin_id)
            return saved

    async def delete(self, kind: PluginTable, plugin_id: str) -> bool:
        async with self._lock:
            row = await self._rows(kind).get(plugin_id)
            if row is None:
                return False
            if row.source == "directory":
                raise ServiceError(
                    403, f"'{plugin_id}' comes from the file {row.path}; remove the file instead"
                )
            await self._rows(kind).delete(plugin_id)
            self.catalog.remove(plugin_id)
            self.valves.forget(plugin_id)
            self.status.pop(plugin_id, None)
            self.environments.forget(plugin_id)
            await self.executor.unload(plugin_id)
            self.runtime.forget_models(plugin_id)
            await self.announce("plugin", plugin_id)
            return True

    async def set_flags(self, plugin_id: str, **flags: bool) -> Function | None:
        row = await self.store.functions.update(plugin_id, **flags)
        if row is not None:
            self.catalog.set_flags(plugin_id, active=row.is_active, is_global=row.is_global)
            await self.announce("plugin", plugin_id)
        return row

    # -- reading, for the API ------------------------------------------------------------------
    async def get(self, kind: PluginTable, plugin_id: str) -> Function | Tool:
        row = await self._rows(kind).get(plugin_id)
        if row is None:
            raise ServiceError(404, NOT_FOUND)
        return row

    async def all(self, kind: PluginTable) -> Sequence[Function | Tool]:
        """Every row of one kind, the most recently updated first."""
        return await self._rows(kind).all()

    def overview(self) -> list[dict[str, Any]]:
        """Every plugin this server knows of, loaded or not, with why it is not."""
        seen: dict[str, dict[str, Any]] = {}
        for entry in self.catalog:
            info = entry.info
            seen[info.id] = {
                "id": info.id,
                "kind": info.kind.value,
                "name": info.name,
                "path": info.path,
                "active": entry.active,
            }
        for plugin_id, status in self.status.items():
            row = seen.setdefault(
                plugin_id,
                {
                    "id": plugin_id,
                    "kind": None,
                    "name": None,
                    "active": False,
                    "path": (status.error or {}).get("path"),
                },
            )
            row.update(
                state=status.state,
                error=status.error,
                loop_stall=status.loop_stall,
                environment=self.environments.state_of(plugin_id) or status.environment,
            )
        return sorted(seen.values(), key=lambda row: row["id"])

    def note_stall(self, stall: Stall, seconds: float) -> None:
        """The plugin blocked the event loop (runtime/loop_lag.py): said in its status, with
        how often, for how long the last time, where and what to do, until it loads anew."""
        status = self.status.get(stall.plugin_id or "")
        if status is None:
            return
        count = (status.loop_stall or {}).get("count", 0) + 1
        status.loop_stall = {
            "count": count,
            "seconds": round(seconds, 1),
            "path": stall.path,
            "line": stall.line,
            "at": int(time.time()),
            "hint": LOOP_HINT,
        }

    def note_failing(self, plugin_id: str, error: PluginError) -> None:
        """The plugin ended its worker process too often (runtime/workers/supervisor.py): its
        status says so, with the last cause, until it loads anew (a save or a reload)."""
        status = self.status.get(plugin_id)
        if status is not None:
            status.state = "failing"
            status.error = error.to_dict()

    def state(self, plugin_id: str) -> Status:
        return self.status.get(plugin_id) or Status("missing", {"message": "not loaded"})

    def _info(self, plugin_id: str) -> PluginInfo:
        """The live plugin's description, or 503 when no version of it is loaded."""
        entry = self.catalog.get(plugin_id)
        if entry is None:
            status = self.state(plugin_id)
            raise ServiceError(
                503,
                {
                    "message": f"'{plugin_id}' is not loaded; fix the error in its status first",
                    "status": {"state": status.state, "error": status.error},
                },
            )
        return entry.info

    def masked(
        self, plugin_id: str, values: Mapping[str, Any] | None, *, user: bool = False
    ) -> dict[str, Any]:
        """Valves as they may be shown: secrets masked. When the plugin is not loaded its
        secret fields are unknown, so every value is masked."""
        values = dict(values or {})
        entry = self.catalog.get(plugin_id)
        if entry is None:
            return mask(values, values)
        return mask(values, entry.info.secret_user_valves if user else entry.info.secret_valves)

    async def user_valves(self, kind: PluginTable, plugin_id: str, user_id: str) -> dict[str, Any]:
        await self.get(kind, plugin_id)
        return dict(await self.valves.user_valves(plugin_id, user_id) or {})

    async def valves_schema(
        self, kind: PluginTable, plugin_id: str, *, user: bool, for_user: dict[str, Any]
    ) -> dict[str, Any] | None:
        """JSON Schema of Valves (or UserValves), options resolved for the caller; None when the
        plugin has no such class."""
        await self.get(kind, plugin_id)
        self._info(plugin_id)
        return await self.executor.valves_schema(plugin_id, user=user, for_user=for_user)

    async def versions(
        self, kind: PluginTable, plugin_id: str, page: int = 1
    ) -> Sequence[PluginVersion]:
        await self.get(kind, plugin_id)
        return await self._rows(kind).versions(plugin_id, page=max(page, 1))

    async def version(self, kind: PluginTable, plugin_id: str, version_id: str) -> PluginVersion:
        await self.get(kind, plugin_id)
        found = await self._rows(kind).version(plugin_id, version_id)
        if found is None:
            raise ServiceError(404, "Version not found")
        return found

    async def latest_version_id(self, kind: PluginTable, plugin_id: str) -> str | None:
        latest = await self._rows(kind).versions(plugin_id, per_page=1)
        return latest[0].id if latest else None

    # -- valves -------------------------------------------------------------------------------
    async def set_valves(
        self, kind: PluginTable, plugin_id: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Validate and store a valves form; only the fields set are stored."""
        row = await self.get(kind, plugin_id)
        info = self._info(plugin_id)
        if not info.has_valves:
            raise ServiceError(404, f"'{plugin_id}' has no Valves class")
        data = keep_masked(data, info.secret_valves, row.valves)
        try:
            stored = await self.executor.validate_valves(plugin_id, data)
        except PluginError as error:
            raise ServiceError(400, error.to_dict()) from error
        await self._rows(kind).update(plugin_id, valves=stored)
        self.valves.remember(plugin_id, kind, stored)
        self.runtime.forget_models(plugin_id)
        await self.announce("plugin", plugin_id)
        return stored

    async def set_user_valves(
        self, kind: PluginTable, plugin_id: str, user_id: str, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Validate and store one user's UserValves form for one plugin."""
        await self.get(kind, plugin_id)
        info = self._info(plugin_id)
        if not info.has_user_valves:
            raise ServiceError(404, f"'{plugin_id}' has no UserValves class")
        current = await self.valves.user_valves(plugin_id, user_id)
        data = keep_masked(data, info.secret_user_valves, current)
        try:
            stored = await self.executor.validate_valves(plugin_id, data, user=True)
        except PluginError as error:
            raise ServiceError(400, error.to_dict()) from error
        await self.valves.set_user_valves(plugin_id, user_id, stored)
        await self.announce("user", user_id)
        return stored
