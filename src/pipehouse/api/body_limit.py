"""Request bodies: the caller's key is checked before a body is read, and no body is held past
the limit (`PIPEHOUSE_MAX_BODY`).

Every route but `/health` needs a key, so a request that brings a body must show a valid one
before a byte of the body is read: a client without a key cannot make the server hold its
upload. A body whose declared length is over the limit is then refused unread, and one sent in
chunks as soon as it passes the limit (413). File uploads stream to disk and keep their own
limit (`PIPEHOUSE_MAX_UPLOAD_MB`, `service/files.py`).

FastAPI reads a route's body before its dependencies check the key, and its own
`max_body_size` answers in plain text, so this gate sits in front of FastAPI's stack; the hot
routes (`api/fastlane.py`) do the same in their own read.
"""

from __future__ import annotations

import sys
from collections.abc import Container
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipehouse.api.sessions import scope_session

NO_LIMIT = sys.maxsize


class BodyTooLarge(HTTPException):
    """An HTTPException, so that FastAPI passes it on unchanged when its own body read meets
    it (any other error there becomes a 400)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            413,
            f"The request body is larger than {limit} bytes, the most this server accepts "
            "(PIPEHOUSE_MAX_BODY)",
        )


def over_limit(declared: bytes | None, limit: int) -> bool:
    """Whether a `Content-Length` header value already says the body is too large."""
    return declared is not None and declared.isdigit() and int(declared) > limit


def capped(receive: Receive, limit: int) -> Receive:
    """`receive`, raising BodyTooLarge as soon as the body received passes `limit`."""
    received = 0

    async def receive_capped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return receive_capped


async def answer_error(request: Request, error: Exception) -> Any:
    """The app's own answer to `error`, from its exception handlers (found by the error's
    class hierarchy, as Starlette finds them)."""
    handlers = request.app.exception_handlers
    handler = next(cls for cls in type(error).__mro__ if cls in handlers)
    return await handlers[handler](request, error)


class BodyGate:
    """For every route outside the fast lane: a request with a body gets its key checked
    first, then its body capped. `own_limits` are paths that limit their bodies themselves."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int | None,
        own_limits: Container[str],
        open_paths: Container[str] = (),
    ) -> None:
        self.app = app
        self.limit = NO_LIMIT if limit is None else limit
        self.own_limits = own_limits
        self.open_paths = open_paths  # take a body before there is a key (the sign-in form)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = authorization = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"authorization":
                authorization = value.decode("latin-1")
        if not chunked and (declared is None or declared == b"0"):  # no body to guard
            await self.app(scope, receive, send)
            return
        limit = NO_LIMIT if scope["path"] in self.own_limits else self.limit
        try:
            if scope["path"] not in self.open_paths:
                await scope["app"].state.auth.principal(
                    authorization, scope_session(scope, authorization)
                )
            if over_limit(declared, limit):
                raise BodyTooLarge(limit)
        except HTTPException as error:
            request = Request(scope, receive, send)
            response = await answer_error(request, error)
            await response(scope, receive, send)
            return
        await self.app(scope, receive if limit == NO_LIMIT else capped(receive, limit), send)
