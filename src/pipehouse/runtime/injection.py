"""The arguments Open WebUI injects into plugin methods (`__user__`, `__event_emitter__`,
`__request__`, ...) and how each is made for one call.

Open WebUI offers every name to every hook and passes a method the ones its signature declares
(Open WebUI 0.12.4 functions.py, utils/filter.py); pipehouse offers the same set everywhere. Each
is built only when declared: a hook that declares two names costs two lookups, not a dozen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipehouse.plugin import valves as valves_rules
from pipehouse.plugin.handlers import Handler
from pipehouse.plugin.loader import LoadedPlugin
from pipehouse.runtime.events import make_caller, make_emitter
from pipehouse.runtime.executor import CallContext
from pipehouse.runtime.request_standin import make_request


def injected_arguments(plugin: LoadedPlugin, handler: Handler, call: CallContext) -> dict:
    """The injected arguments this method declares, besides what `call.extra` supplies."""
    given: dict[str, Any] = {}
    extra = call.extra
    for name in handler.accepts:
        offer = _OFFERS.get(name)
        if offer is not None:
            given[name] = offer(plugin, handler, call)
        elif name in extra:
            given[name] = extra[name]
    return given


def _user_dict(plugin: LoadedPlugin, accepts: frozenset[str], call: CallContext) -> dict:
    """A fresh copy per plugin: Open WebUI shares one dict down the filter chain and leaks
    one filter's user valves into the next (Open WebUI 0.12.4 functions.py)."""
    user = dict(call.user)
    cls = plugin.user_valves_class
    if cls is not None and "__user__" in accepts:
        built = valves_rules.build_user_valves(plugin.id, plugin.kind, cls, call.user_valves)
        if built is not None:
            user["valves"] = built
    return user


def _metadata(key: str, default: Any = None) -> Callable[..., Any]:
    return lambda _plugin, _handler, call: call.metadata.get(key) or default


_OFFERS: dict[str, Callable[[LoadedPlugin, Handler, CallContext], Any]] = {
    "__id__": lambda plugin, _handler, _call: plugin.id,
    "__chat_id__": _metadata("chat_id"),
    "__session_id__": _metadata("session_id"),
    "__message_id__": _metadata("message_id"),
    "__task__": _metadata("task"),
    "__task_body__": _metadata("task_body"),
    "__files__": lambda _plugin, _handler, call: (
        call.extra.get("__files__") or call.metadata.get("files") or []
    ),
    "__tools__": lambda _plugin, _handler, call: call.metadata.get("tools") or {},
    "__metadata__": lambda _plugin, _handler, call: call.metadata,
    "__model__": lambda _plugin, _handler, call: call.model,
    "__oauth_token__": lambda _plugin, _handler, _call: None,
    "__user__": lambda plugin, handler, call: _user_dict(plugin, handler.accepts, call),
    "__event_emitter__": lambda _plugin, _handler, call: make_emitter(call.host),
    "__event_call__": lambda _plugin, _handler, call: make_caller(call.host),
    "__request__": lambda _plugin, _handler, call: make_request(call.request),
}

# The `CallContext` fields each offer is made from (besides `extra`, the host and the plugin).
_READS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            "__chat_id__",
            "__session_id__",
            "__message_id__",
            "__task__",
            "__task_body__",
            "__files__",
            "__tools__",
            "__metadata__",
        ),
        ("metadata",),
    ),
    "__model__": ("model",),
    "__user__": ("user", "user_valves"),
    "__request__": ("request",),
}


def context_reads(handler: Handler) -> list[str]:
    """The `CallContext` fields the injected arguments `handler` declares are made from: a
    worker is sent only these for a call of it (the rest would cross for nothing)."""
    return sorted({field for name in handler.accepts for field in _READS.get(name, ())})
