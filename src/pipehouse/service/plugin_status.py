"""Each plugin's status as an admin sees it: loaded, or why not (a load error, a missing file,
an environment being built, a worker it ends too often), and whether it blocked the event loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipehouse.plugin.errors import PluginError
from pipehouse.plugin.info import PluginInfo
from pipehouse.runtime.catalog import Catalog
from pipehouse.runtime.loop_lag import HINT as LOOP_HINT
from pipehouse.runtime.loop_lag import Stall
from pipehouse.service.errors import ServiceError


@dataclass
class Status:
    state: str = "loaded"  # loaded | error | missing | failing (ended its worker too often)
    error: dict[str, Any] | None = None
    loop_stall: dict[str, Any] | None = None  # the last time it blocked the event loop, if ever
    # the environment it runs in (service/plugin_envs.py): queued | installing | ready | failed
    environment: dict[str, Any] | None = None


class PluginStatuses(dict[str, Status]):
    """The status of every plugin this server tried to load, by plugin id."""

    def current(self, plugin_id: str) -> Status:
        return self.get(plugin_id) or Status("missing", {"message": "not loaded"})

    def put_back(self, plugin_id: str, status: Status | None) -> None:
        """The status a plugin had before a rejected change (none: it had none)."""
        if status is None:
            self.pop(plugin_id, None)
        else:
            self[plugin_id] = status

    def note_stall(self, stall: Stall, seconds: float) -> None:
        """The plugin blocked the event loop (runtime/loop_lag.py): said in its status, with
        how often, for how long the last time, where and what to do, until it loads anew."""
        status = self.get(stall.plugin_id or "")
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
        status = self.get(plugin_id)
        if status is not None:
            status.state = "failing"
            status.error = error.to_dict()

    def loaded_info(self, catalog: Catalog, plugin_id: str) -> PluginInfo:
        """The live plugin's description, or 503 when no version of it is loaded."""
        entry = catalog.get(plugin_id)
        if entry is None:
            status = self.current(plugin_id)
            raise ServiceError(
                503,
                {
                    "message": f"'{plugin_id}' is not loaded; fix the error in its status first",
                    "status": {"state": status.state, "error": status.error},
                },
            )
        return entry.info

    def overview(
        self, catalog: Catalog, environment_of: Callable[[str], dict[str, Any] | None]
    ) -> list[dict[str, Any]]:
        """Every plugin this server knows of, loaded or not, with why it is not."""
        seen: dict[str, dict[str, Any]] = {}
        for entry in catalog:
            info = entry.info
            seen[info.id] = {
                "id": info.id,
                "kind": info.kind.value,
                "name": info.name,
                "path": info.path,
                "active": entry.active,
            }
        for plugin_id, status in self.items():
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
                environment=environment_of(plugin_id) or status.environment,
            )
        return sorted(seen.values(), key=lambda row: row["id"])
