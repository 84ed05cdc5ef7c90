"""The chat and model routes, served ahead of the whole FastAPI stack.

Through FastAPI a request passes its outer middlewares (server errors, telemetry, body limit),
a search of every route and the dependency machinery before its endpoint runs; for a trivial
pipe that costs more than the endpoint itself. The app (`PipehouseApp`) puts the fast lane
outermost: the hot routes are matched by exact method and path and answered directly, with
the app's own exception handlers (`body_limit.answer_error`), and a request id, metrics and the
access log by the observability functions the middleware uses too, called from the response
built here rather than by wrapping `send`; every other request goes on to the observability
middleware and FastAPI as usual. Only public Starlette APIs are used: the body is handed back
through `receive`, as an ASGI app would get it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipehouse.api.body_limit import NO_LIMIT, BodyTooLarge, answer_error, over_limit
from pipehouse.api.observability import (
    Metrics,
    begin_request,
    count_request,
    end_request,
    id_header,
)
from pipehouse.api.sessions import scope_session

if TYPE_CHECKING:
    from pipehouse.api.app import PipehouseApp
    from pipehouse.api.openai import ChatAPI
    from pipehouse.api.principal import Principal


class HotRoute(NamedTuple):
    endpoint: Callable[[ChatAPI, Request, Principal, bytes], Awaitable[Response]]
    route: BaseRoute  # the documented route, which metrics label the request with


class FastLane:
    def __init__(
        self,
        app: PipehouseApp,
        stack: ASGIApp,
        routes: Mapping[tuple[str, str], HotRoute],
        metrics: Metrics,
        max_body: int | None = None,
    ) -> None:
        self.app = app
        self.stack = stack  # everything else: observability, then FastAPI's own stack
        self.routes = routes
        self.metrics = metrics
        self.max_body = NO_LIMIT if max_body is None else max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = self.routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        if hot is None:
            await self.stack(scope, receive, send)
            return
        authorization = given_id = declared = None
        for name, value in scope["headers"]:  # the three this lane reads, in one pass
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length":
                declared = value
            elif name == b"x-request-id":
                given_id = value
        rid, token = begin_request(scope, given_id)
        started = time.perf_counter()
        status = 500
        try:
            app = scope["app"] = self.app
            scope["route"] = hot.route
            body = BodyReplay(receive)
            request = Request(scope, body, send)
            try:
                api = app.chat_api
                assert api is not None  # bound when the app started, before any request
                auth = api.auth
                # the key before the body: a caller without one cannot make the server hold it
                # a console session's cookie is looked at only without a key
                session = None if authorization is not None else scope_session(scope, None)
                user = auth.cached(authorization, session) or await auth.principal(
                    authorization, session
                )
                if over_limit(declared, self.max_body):
                    raise BodyTooLarge(self.max_body)
                raw = await body.read(self.max_body)
                response = await hot.endpoint(api, request, user, raw)
            except ClientDisconnect:
                return  # nobody is left to answer
            except Exception as exc:
                response = await answer_error(request, exc)
            status = response.status_code
            response.raw_headers.append(id_header(rid))
            count_request(self.metrics, scope, status, started)
            await response(scope, receive, send)
        finally:
            end_request(scope, status, started, token)


class BodyReplay:
    """The request's `receive`, which reads the whole body once (`read`) and then hands it to
    whoever asks the request for it again (`Request.body()`, a plugin through `__request__`),
    before passing later messages (a disconnect) through. Read here rather than through
    `Request.body()`, whose async generator costs more than the rest of the read."""

    __slots__ = ("_body", "_receive")

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._body: bytes | None = None

    async def read(self, limit: int = NO_LIMIT) -> bytes:
        """The whole body; BodyTooLarge as soon as it passes `limit`, with nothing more read."""
        chunks = []
        size = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = self._body = b"".join(chunks)
        return body

    async def __call__(self) -> Message:
        body = self._body
        if body is None:
            return await self._receive()
        self._body = None
        return {"type": "http.request", "body": body, "more_body": False}
