"""The chat and model routes, served ahead of FastAPI's routing.

A request through FastAPI passes four more middlewares, a search of every route and the
dependency machinery before its endpoint runs; for a trivial pipe that costs more than the
endpoint itself. The hot routes are matched here by exact method and path and answered
directly, with the same exception handlers as the rest of the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request, Exception], Awaitable[Response]]


class FastLane:
    def __init__(
        self,
        app: Any,
        endpoints: Mapping[tuple[str, str], Callable[[Request], Awaitable[Response]]],
        handlers: Mapping[Any, Handler],
    ) -> None:
        self.app = app
        self.endpoints = endpoints
        self.handlers = handlers  # the app's exception handlers, by exception class

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        endpoint = (
            self.endpoints.get((scope["method"], scope["path"]))
            if scope["type"] == "http"
            else None
        )
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive, send)
        try:
            response = await endpoint(request)
        except Exception as exc:
            handler = next(
                (self.handlers[cls] for cls in type(exc).__mro__ if cls in self.handlers), None
            )
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)
