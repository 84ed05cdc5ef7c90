"""A call as plain data for the wire: the call context a worker rebuilds its injected
arguments from, and the plugin facts a worker answers a load with."""

from __future__ import annotations

from typing import Any

from pipehouse.plugin.info import PluginInfo
from pipehouse.plugin.kinds import PluginKind
from pipehouse.runtime.executor import CallContext
from pipehouse.runtime.request_standin import request_facts


def info_from(data: dict[str, Any]) -> PluginInfo:
    return PluginInfo(**{**data, "kind": PluginKind(data["kind"])})


def context_data(call: CallContext, needs: list[str] | None = None) -> dict[str, Any]:
    """What a call context carries, as plain data (its host stays here: events come back);
    only the valves, `extra` and the fields in `needs` when the worker said which the method
    reads (`main._context_needs`): the user, metadata and request facts of a call of a method
    that declares none cross for nothing."""
    if needs is not None:
        data = {"valves": call.valves, "extra": call.extra}
        for name in needs:
            data[name] = _facts(call.request) if name == "request" else getattr(call, name)
        return data
    return {
        "user": call.user,
        "metadata": call.metadata,
        "valves": call.valves,
        "user_valves": call.user_valves,
        "model": call.model,
        "request": _facts(call.request),
        "extra": call.extra,
    }


def _facts(request: dict[str, Any] | None) -> dict[str, Any] | None:
    """`request_facts`, worked out once per request (its filters and pipe share the dict)."""
    if not request:
        return None
    facts = request.get(_FACTS)
    if facts is None:
        facts = request[_FACTS] = request_facts(request)
    return facts


_FACTS = "__pipehouse_facts__"
