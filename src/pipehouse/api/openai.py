"""The OpenAI API (`/v1/models`, `/v1/chat/completions`) and Open WebUI's aliases under `/api`.

The filter chain runs here for every client, not only Open WebUI's browser tab. The body is
read with orjson and handed to the runtime as plain data: no per-request Pydantic model on the
hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.datastructures import State

from pipehouse.api.fastlane import HotRoute
from pipehouse.api.principal import Principal, current_user
from pipehouse.api.sse import SSEResponse
from pipehouse.files.chat_files import names_files, resolve_request_files
from pipehouse.runtime.chat_body import check_chat_body
from pipehouse.runtime.encoding import dumps
from pipehouse.runtime.errors import RequestError
from pipehouse.service.chats import chat_id_of

router = APIRouter(tags=["openai"])


class JSONAnswer(Response):
    """A JSON body, encoded by the encoder of streamed frames (a pipe's dict may hold sets,
    bytes or pydantic models), with its two headers made directly (`init_headers`, which
    `Response.__init__` calls): Starlette's general header building costs more than the rest
    of sending a small answer."""

    media_type = "application/json"

    def __init__(self, value: object) -> None:
        super().__init__(dumps(value))

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        self.raw_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(self.body)),
        ]


class ChatAPI:
    """The chat and model endpoints, bound to the services of one lifespan (the app's
    `chat_api`). The fast lane calls them with the request and its caller. Bound once, not
    looked up on `app.state` per request: Starlette's `State` answers only through
    `__getattr__`, after a failed attribute lookup."""

    def __init__(self, state: State) -> None:
        self.auth = state.auth
        self.runtime = state.runtime
        self.files = state.files
        self.chats = state.chats
        self.inline_events = state.settings.inline_events

    def wants_inline_events(self, request: Request, body: dict[str, Any]) -> bool:
        """Events ride in the stream when the server is set so, or the client asks: the
        header `X-Pipehouse-Events: inline` (an Open WebUI connection can send it) or
        `metadata.events`."""
        if self.inline_events:
            return True
        if "inline" in request.headers.get("x-pipehouse-events", "").lower():
            return True
        metadata = body.get("metadata")
        return isinstance(metadata, dict) and metadata.get("events") == "inline"

    async def models(self, request: Request, user: Principal, raw: bytes = b"") -> Response:
        return JSONAnswer({"object": "list", "data": await self.runtime.models()})

    async def chat(self, request: Request, user: Principal, raw: bytes | None = None) -> Response:
        """`raw`: the body, when the fast lane has read it already."""
        if raw is None:
            raw = await request.body()
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise RequestError(f"the request body is not valid JSON: {exc}") from exc
        check_chat_body(body)  # before anything reads it: a wrong type is the client's 400
        if names_files(body):  # uploads -> __files__ items
            body = await resolve_request_files(body, user, self.files)
        stream = isinstance(body, dict) and bool(body.get("stream"))
        chat_id = chat_id_of(body)  # the caller's chat gets this exchange appended when it ends
        recorder = await self.chats.recorder(chat_id, body, user) if chat_id else None
        turn = await self.runtime.start(
            body,
            user.user,
            request={"request": request},
            inline_events=stream and self.wants_inline_events(request, body),
        )
        turn.on_finished = recorder
        if turn.stream:
            return SSEResponse(turn.sse())
        return JSONAnswer(await turn.complete())


def _bound(request: Request) -> ChatAPI:
    return request.app.chat_api


@router.get("/v1/models")
@router.get("/api/models")
@router.get("/api/v1/models")
async def list_models(request: Request, user: Principal = Depends(current_user)) -> Response:
    """Every pipe, manifold sub-model and Pipelines model, with toggle filters and actions."""
    return await _bound(request).models(request, user)


@router.post("/v1/chat/completions")
@router.post("/api/chat/completions")
@router.post("/api/v1/chat/completions")
@router.post("/chat/completions")  # where a Pipelines connection (a URL without /v1) sends chats
async def chat_completions(request: Request, user: Principal = Depends(current_user)) -> Response:
    """A chat turn. Extra body keys pipehouse reads: `filter_ids`, `tool_ids`, `files`,
    `metadata` (chat_id, message_id, session_id, ...), as Open WebUI's own UI sends them."""
    return await _bound(request).chat(request, user)


def hot_routes() -> dict[tuple[str, str], HotRoute]:
    """The routes above by (method, path), for the fast lane (`api/fastlane.py`) that serves
    them ahead of FastAPI; the routes above still document them in the schema."""
    hot: dict[tuple[str, str], HotRoute] = {}
    for route in router.routes:
        assert isinstance(route, APIRoute) and route.methods  # the @router routes above
        serve = ChatAPI.chat if "POST" in route.methods else ChatAPI.models
        for method in route.methods:
            hot[method, route.path] = HotRoute(serve, route)
    return hot
