"""The installed plugins: rows in the store, live instances in the executor, entries in the
catalog requests read, kept in step.

Two sources live side by side: plugins created through the REST API (stored code) and files in
`--plugins` directories (watched; a changed file reloads only that plugin). A plugin that fails
to load keeps serving its last good version and keeps its active flag: a passing failure (a
typo mid-edit, a network hiccup during an install) never switches anything off, unlike Open
WebUI (Open WebUI 0.12.4 utils/plugin.py). The failure is kept in `status` for the API and the logs.

Beside it: the stored row (plugin_rows.py), the status (plugin_status.py), the directories and
their watcher (plugin_directories.py), valves forms (valves_forms.py), environments
(plugin_envs.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipehouse.config import Settings
from pipehouse.envs import Environments
from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.ids import id_problem
from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind, PluginTable
from pipehouse.plugin.loader import plugin_id_from_path
from pipehouse.runtime.catalog import Catalog
from pipehouse.runtime.chat import ChatRuntime
from pipehouse.runtime.executor import Executor, PluginSource
from pipehouse.service.errors import NOT_FOUND, ServiceError
from pipehouse.service.plugin_directories import PluginDirectories
from pipehouse.service.plugin_envs import (
    PENDING,
    EnvironmentPending,
    PluginEnvironments,
    provisional_info,
)
from pipehouse.service.plugin_rows import build_row, row_kind
from pipehouse.service.plugin_status import PluginStatuses, Status
from pipehouse.service.valves import DatabaseValves
from pipehouse.service.valves_forms import ValvesForms
from pipehouse.store.models import Function, PluginVersion, Tool
from pipehouse.store.plugins import PluginStore

log = logging.getLogger(__name__)


async def _unshared(topic: str, key: str) -> None:
    """A server on its own has nobody to tell."""


def _no_settings(plugin_id: str, row: Function | Tool | None) -> None:
    """A server whose plugins all run one way keeps nothing per plugin outside them."""


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
        self.status = PluginStatuses()
        self.directories = PluginDirectories(settings.plugin_dirs)
        self.valves_forms = ValvesForms(self)
        self._watcher: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()
        # tells other replicas what changed (service/replication.py); set by the app
        self.announce: Callable[[str, str], Awaitable[None]] = _unshared
        # takes what an admin set for a plugin outside its code (its isolation mode, in
        # `meta`) from a row another replica changed, before it is loaded again; set by the app
        self.follow_settings: Callable[[str, Function | Tool | None], None] = _no_settings

    # -- start and stop -----------------------------------------------------------------------
    async def start(self) -> None:
        missing = self.directories.missing()
        if missing:
            raise FileNotFoundError(f"plugin directory {missing[0]} does not exist")
        rows: list[Function | Tool] = [*await self.store.functions.all()]
        rows += await self.store.tools.all()
        for row in rows:
            if row.source == "directory" and not self.directories.serves(row.path):
                # a file of another run's --plugins: its row waits for that run
                message = f"{row.path} is not in this run's plugin directories"
                self.status[row.id] = Status("missing", {"message": message})
                continue
            if row.source == "directory" and not (row.path and Path(row.path).is_file()):
                self.status[row.id] = Status("missing", {"message": f"{row.path} is gone"})
                self.valves.remember(row.id, row_kind(row), row.valves)
                continue
            await self._activate(row)
        for path in self.directories.files():
            await self.sync_file(path)
        if self.settings.watch and self.settings.plugin_dirs:
            watching = self.directories.watch(self._stop, self.sync_file, self.file_removed)
            self._watcher = asyncio.create_task(watching, name="plugin-watcher")

    async def stop(self) -> None:
        self._stop.set()
        await self.environments.close()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watcher

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
                if Path(existing.path).exists() and self.directories.serves(existing.path):
                    log.error(
                        "skipping %s: %s already provides the plugin %r",
                        path,
                        existing.path,
                        plugin_id,
                    )
                    return None
                # another file took the id (the old one is gone or outside this run's
                # directories): a different plugin, which starts with flags and valves of its own
                await self.rows(row_kind(existing)).delete(plugin_id)
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
                await self.rows(row_kind(existing)).delete(plugin_id)
            saved = await self.rows(row_kind(row)).save(
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
                if row.path and self.directories.serves(row.path) and not Path(row.path).is_file():
                    await self.file_removed(Path(row.path))
                continue
            async with self._lock:
                await self._activate(row)
        for path in self.directories.files():
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
        self.environments.forget(plugin_id)  # no longer in use: `prune` may remove it
        await self.executor.unload(plugin_id)
        self.runtime.forget_models(plugin_id)
        self.status[plugin_id] = Status("missing", {"message": f"{path} was removed"})
        log.info("unloaded %s: %s was removed", plugin_id, path)

    async def refresh(self, plugin_id: str) -> None:
        """Another replica changed this plugin: serve what the database holds now (its code,
        flags, valves and mode), or stop serving it when its row is gone."""
        async with self._lock:
            row = await self.store.functions.get(plugin_id) or await self.store.tools.get(plugin_id)
            self.follow_settings(plugin_id, row)
            if row is None:
                self.catalog.remove(plugin_id)
                self.valves.forget(plugin_id)
                self.status.pop(plugin_id, None)
                self.environments.forget(plugin_id)
                await self.executor.unload(plugin_id)
                self.runtime.forget_models(plugin_id)
            elif row.source != "directory" or self.directories.serves(row.path):
                await self._activate(row)

    def rows(self, kind: PluginTable) -> Any:
        """The store's table of `kind`."""
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
            self.status.put_back(plugin_id, before)
            raise ServiceError(400, error.to_dict()) from error
        pipeline = pipeline_files and info.kind is PluginKind.PIPELINE
        if kind is PluginTable.FUNCTION and not (info.kind.is_function or pipeline):
            await self._restore(kind, plugin_id, previous, before)
            classes = "Pipe, Filter, Action or Event"
            if pipeline_files:
                classes = f"Pipeline, {classes}"
            raise ServiceError(400, f"No Function class found in the module ({classes})")
        return info

    async def _restore(
        self, kind: PluginTable, plugin_id: str, previous: str | None, status: Status | None
    ) -> None:
        """Put back the stored code after a rejected save (or nothing, for a new id)."""
        wanted = PluginKind.TOOLS if kind is PluginTable.TOOL else None
        if previous is None:
            await self.executor.unload(plugin_id)
        else:
            await self._load(plugin_id, previous, None, wanted)
        self.status.put_back(plugin_id, status)

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
        rows = self.rows(kind)
        async with self._lock:
            existing = await rows.get(plugin_id)
            other = await self.rows(kind.other).get(plugin_id)
            if create and (existing is not None or other is not None):
                raise ServiceError(
                    400, "Uh-oh! This id is already registered. Please choose another id string."
                )
            if not create and existing is None:
                raise ServiceError(404, NOT_FOUND)
            if existing is not None and existing.source == "directory":
                raise ServiceError(
                    403, f"'{plugin_id}' comes from the file {existing.path}; edit the file instead"
                )
            previous = existing.content if existing is not None else None
            before = self.status.get(plugin_id)
            info = await self._load_for_save(
                kind, plugin_id, content, previous, pipeline_files=pipeline_files
            )
            pending = self.status.current(plugin_id).state in PENDING
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
            try:
                saved = await rows.save(row, user_id=user_id, message=message)
            except BaseException:  # not stored: the stored code goes on serving
                await self._restore(kind, plugin_id, previous, before)
                raise
            if pending:  # what ran before (if anything) serves until the new code loads
                self.valves.remember(saved.id, row_kind(saved), saved.valves)
            else:
                self._publish(saved, info)
            await self.announce("plugin", plugin_id)
            return saved

    async def delete(self, kind: PluginTable, plugin_id: str) -> bool:
        async with self._lock:
            row = await self.rows(kind).get(plugin_id)
            if row is None:
                return False
            if row.source == "directory":
                raise ServiceError(
                    403, f"'{plugin_id}' comes from the file {row.path}; remove the file instead"
                )
            await self.rows(kind).delete(plugin_id)
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
        row = await self.rows(kind).get(plugin_id)
        if row is None:
            raise ServiceError(404, NOT_FOUND)
        return row

    async def all(self, kind: PluginTable) -> Sequence[Function | Tool]:
        """Every row of one kind, the most recently updated first."""
        return await self.rows(kind).all()

    def overview(self) -> list[dict[str, Any]]:
        """Every plugin this server knows of, loaded or not, with why it is not."""
        return self.status.overview(self.catalog, self.environments.state_of)

    async def versions(
        self, kind: PluginTable, plugin_id: str, page: int = 1
    ) -> Sequence[PluginVersion]:
        await self.get(kind, plugin_id)
        return await self.rows(kind).versions(plugin_id, page=max(page, 1))

    async def version(self, kind: PluginTable, plugin_id: str, version_id: str) -> PluginVersion:
        await self.get(kind, plugin_id)
        found = await self.rows(kind).version(plugin_id, version_id)
        if found is None:
            raise ServiceError(404, "Version not found")
        return found

    async def latest_version_id(self, kind: PluginTable, plugin_id: str) -> str | None:
        latest = await self.rows(kind).versions(plugin_id, per_page=1)
        return latest[0].id if latest else None
