"""Actions: the buttons every model lists, and running one when it is clicked (Open WebUI 0.12.4
utils/actions.py).

Open WebUI lists on each model the active actions attached to it (its `actionIds`) plus every
global one, ordered by `(Valves.priority, id)`; an action with an `actions` list shows one
button per entry, `<function_id>.<sub_id>`. pipehouse has no per-model attachments, so every
model lists the active global actions. The listing is kept until the catalog or the stored
valves change, not rebuilt for every `/models` request.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind
from pipehouse.runtime.action_result import ActionResult
from pipehouse.runtime.catalog import Catalog, Entry, ValvesSource
from pipehouse.runtime.errors import RequestError

if TYPE_CHECKING:
    from pipehouse.runtime.chat import ChatRuntime
    from pipehouse.runtime.events import Host

log = logging.getLogger(__name__)


class ActionNotFound(RequestError):
    status = 404
    type = "not_found_error"

    def __init__(self, action_id: str) -> None:
        self.action_id = action_id
        super().__init__(f"Action not found: {action_id}")


def sub_action_ids(info: PluginInfo) -> list[str] | None:
    """The ids of an action's `actions` entries; None when it declares no such list."""
    if info.actions is None:
        return None
    return [str(item["id"]) for item in info.actions if "id" in item]


def buttons(info: PluginInfo) -> list[dict[str, Any]]:
    """The entries one action adds to a model's `actions`, with Open WebUI's names and icons."""
    if info.actions is None:
        return [
            {"id": info.id, "name": info.name, "description": info.description, "icon": info.icon}
        ]
    listed = []
    for item in info.actions:
        if "id" not in item:  # Open WebUI's whole model list fails on such an entry
            log.warning("action %s: sub-action %r has no id; not listed", info.id, item)
            continue
        listed.append(
            {
                "id": f"{info.id}.{item['id']}",
                "name": item.get("name", f"{info.name} ({item['id']})"),
                "description": info.description,
                "icon": item.get("icon_url", info.icon),
            }
        )
    return listed


class ActionMenu:
    """The `actions` every model lists, recomputed only when the catalog or valves change."""

    def __init__(self, catalog: Catalog, store: ValvesSource) -> None:
        self.catalog = catalog
        self.store = store
        self._cached: tuple[tuple[int, int], list[dict[str, Any]]] | None = None

    def actions(self) -> list[Entry]:
        """Active actions applied to every model (global ones)."""
        return [
            e for e in self.catalog if e.active and e.is_global and e.info.kind is PluginKind.ACTION
        ]

    async def _priority(self, entry: Entry) -> int:
        stored = await self.store.valves(entry.info.id) or {}
        value = stored.get("priority", entry.info.default_priority)
        return value if isinstance(value, int) else 0

    async def _build(self) -> list[dict[str, Any]]:
        entries = self.actions()
        priorities = {e.info.id: await self._priority(e) for e in entries}
        entries.sort(key=lambda e: (priorities[e.info.id], e.info.id))
        return [button for e in entries for button in buttons(e.info)]

    async def items(self) -> list[dict[str, Any]]:
        """Every model's `actions` list. Stores without a `version` are asked every time."""
        store_version = getattr(self.store, "version", None)
        if store_version is None:
            return await self._build()
        versions = (self.catalog.version, store_version)
        if self._cached is None or self._cached[0] != versions:
            self._cached = (versions, await self._build())
        return self._cached[1]


def find_action(catalog: Catalog, action_id: str, user: dict[str, Any]) -> tuple[Entry, str | None]:
    """The action a click names (`function_id` or `function_id.sub_id`) and the sub id.

    It must be an active action. A user who is not an admin reaches only the actions models
    list (the global ones), as Open WebUI checks what the model surfaces; admins reach any
    active action. A sub id must be one the action lists; the first dot splits, so a sub id
    may contain dots (Open WebUI's split fails on them, Open WebUI 0.12.4 utils/actions.py)."""
    plugin_id, dot, sub_id = action_id.partition(".")
    entry = catalog.get(plugin_id)
    if entry is None or entry.info.kind is not PluginKind.ACTION or not entry.active:
        raise ActionNotFound(action_id)
    if not entry.is_global and user.get("role") != "admin":
        raise ActionNotFound(action_id)
    if dot and sub_id not in (sub_action_ids(entry.info) or []):
        raise ActionNotFound(action_id)
    return entry, sub_id if dot else None


async def run_action(
    runtime: ChatRuntime,
    action_id: str,
    body: dict[str, Any],
    user: dict[str, Any],
    *,
    host: Host,
    request: dict[str, Any] | None = None,
    model: dict[str, Any] | None = None,
) -> ActionResult:
    """One click: find the action, build its call from the body Open WebUI's UI sends
    (`model`, `messages`, `chat_id`, `id` = the message id, `session_id`), run it, and send any
    embedded page to `host` as an `embeds` event.

    `model` stands in for the body's model when there is no server to resolve it (the CLI);
    otherwise `body["model"]` must name a model a chat could use."""
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    entry, sub_id = find_action(runtime.catalog, action_id, user)
    if model is None:
        _, model = await runtime.resolve(body.get("model"))
    # the plugin gets its own copies: the listing is cached and shared by every model
    model = {**model, "actions": [dict(a) for a in await runtime.actions.items()]}
    body = {k: v for k, v in body.items() if k != "model_item"}
    metadata = {
        "user_id": user.get("id"),
        "chat_id": body.get("chat_id"),
        "message_id": body.get("id"),
        "session_id": body.get("session_id"),
        "model": model,
    }
    call = await runtime.call_context(entry.info, user, metadata, host, model, request)
    result = await runtime.executor.call_action(entry.info.id, body, call, sub_action_id=sub_id)
    if result.embeds:
        await host.emit({"type": "embeds", "data": {"embeds": result.embeds}})
    return result
