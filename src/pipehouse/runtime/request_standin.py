"""The `__request__` handed to plugins, and the plain facts it is built from.

Plugins read `__request__` as Open WebUI's live FastAPI request. The live request never leaves
the server's process, so a worker builds a stand-in Starlette `Request` from `request_facts`
(docs/compatibility.md, `__request__`), and the CLI, having no request at all, gets one with
defaults. Away from the server, `request.app` is a stand-in with an empty state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import State
from starlette.requests import Request


class _App:
    """The FastAPI app behind `__request__` away from the server (in a worker, in the CLI)."""

    def __init__(self) -> None:
        self.state = State()


_CLI_APP = _App()


def request_facts(given: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What a plugin's `__request__` shows, as plain data: method, url parts, headers, client
    and plain values of `request.state`. A worker process builds its stand-in from these
    (docs/compatibility.md, `__request__`); the live request never leaves the server."""
    if not given:
        return None
    live = given.get("request")
    if not isinstance(live, Request):
        return {k: v for k, v in given.items() if k != "request" and not k.startswith("__")}
    scope = live.scope
    state = {
        key: value
        for key, value in (scope.get("state") or {}).items()
        if isinstance(value, str | int | float | bool | type(None) | list | dict)
    }
    server = scope.get("server")
    return {
        "method": live.method,
        "path": scope.get("path", "/"),
        "query_string": (scope.get("query_string") or b"").decode("latin-1"),
        "headers": dict(live.headers),
        "client": list(live.client) if live.client else None,
        "server": list(server) if server else None,
        "scheme": scope.get("scheme", "http"),
        "state": state,
    }


def make_request(facts: Mapping[str, Any] | None) -> Request:
    """The `__request__` a plugin is handed: the live request when the server passes it
    through, otherwise a stand-in built from `request_facts` (or defaults, for the CLI)."""
    facts = facts or {}
    if isinstance(facts.get("request"), Request):  # the server hands its live request through
        return facts["request"]
    headers = [
        (k.lower().encode(), str(v).encode()) for k, v in (facts.get("headers") or {}).items()
    ]
    path = facts.get("path") or "/api/chat/completions"
    scope = {
        "type": "http",
        "method": facts.get("method") or "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": str(facts.get("query_string") or "").encode("latin-1"),
        "headers": headers,
        "client": tuple(facts.get("client") or ("127.0.0.1", 0)),
        "server": tuple(facts.get("server") or ("127.0.0.1", 0)),
        "scheme": facts.get("scheme") or "http",
        "app": facts.get("app", _CLI_APP),
        "state": dict(facts.get("state") or {}),
    }
    return Request(scope)
