"""The OpenAI API (`/v1/models`, `/v1/chat/completions`) and Open WebUI's aliases under `/api`.

The filter chain runs here for every client, not only Open WebUI's browser tab. The body is
read with orjson and handed to the runtime as plain data: no per-request Pydantic model on the
hot path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from pipehouse.api.auth import Principal, current_user
from pipehouse.api.fastlane import Endpoint
from pipehouse.api.sse import SSEResponse
from pipehouse.files.chat_files import resolve_request_files
from pipehouse.runtime.encoding import dumps
from pipehouse.runtime.errors import RequestError
from pipehouse.service.chats import chat_id_of

router = APIRouter(tags=["openai"])


class JSONAnswer(Response):
    """A JSON body, encoded by the encoder of streamed frames (a pipe's dict may hold sets,
    bytes or pydantic models), with its two headers made directly: Starlette's header
    building costs more than the rest of sending a small answer."""

    media_type = "application/json"

    def __init__(self, value: object) -> None:
        self.body = dumps(value)
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(self.body)),
        ]


def wants_inline_events(request: Request, body: object) -> bool:
    """Events ride in the stream when the server is set so, or the client asks: the header
    `X-Pipehouse-Events: inline` (an Open WebUI connection can send it) or `metadata.events`."""
    if request.app.state.settings.inline_events:
        return True
    if "inline" in request.headers.get("x-pipehouse-events", "").lower():
        return True
    metadata = body.get("metadata") if isinstance(body, dict) else None
    return isinstance(metadata, dict) and metadata.get("events") == "inline"


async def _models(request: Request, user: Principal) -> Response:
    models = await request.app.state.runtime.models()
    return JSONAnswer({"object": "list", "data": models})


async def _chat(request: Request, user: Principal) -> Response:
    raw = await request.body()  # already read by the fast lane: no second read
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"the request body is not valid JSON: {exc}") from exc
    state = request.app.state
    body = await resolve_request_files(body, user, state.files)  # uploads -> __files__ items
    stream = isinstance(body, dict) and bool(body.get("stream"))
    chat_id = chat_id_of(body)  # the caller's chat gets this exchange appended when it ends
    recorder = await state.chats.recorder(chat_id, body, user) if chat_id else None
    turn = await state.runtime.start(
        body,
        user.user,
        request={"request": request},
        inline_events=stream and wants_inline_events(request, body),
    )
    turn.on_finished = recorder
    if turn.stream:
        return SSEResponse(turn.sse())
    return JSONAnswer(await turn.complete())


@router.get("/v1/models")
@router.get("/api/models")
@router.get("/api/v1/models")
async def list_models(request: Request, user: Principal = Depends(current_user)) -> Response:
    """Every pipe, manifold sub-model and Pipelines model, with toggle filters and actions."""
    return await _models(request, user)


@router.post("/v1/chat/completions")
@router.post("/api/chat/completions")
@router.post("/api/v1/chat/completions")
@router.post("/chat/completions")  # where a Pipelines connection (a URL without /v1) sends chats
async def chat_completions(request: Request, user: Principal = Depends(current_user)) -> Response:
    """A chat turn. Extra body keys pipehouse reads: `filter_ids`, `tool_ids`, `files`,
    `metadata` (chat_id, message_id, session_id, ...), as Open WebUI's own UI sends them."""
    return await _chat(request, user)


def hot_endpoints() -> dict[tuple[str, str], Endpoint]:
    """The endpoints above as plain functions by (method, path), for the fast lane (`api/
    fastlane.py`) that serves them ahead of FastAPI; the routes above still document them in
    the schema. The fast lane has read the body already."""

    def endpoint(handler: Callable[[Request, Principal], Awaitable[Response]], documented: Any):
        async def serve(request: Request) -> Response:
            request.scope["route"] = documented  # what metrics label the request with
            user = await request.app.state.auth.principal(request.headers.get("authorization"))
            return await handler(request, user)

        return serve

    found = {}
    for route in router.routes:
        handler = _chat if "POST" in route.methods else _models
        for method in route.methods:
            found[(method, route.path)] = endpoint(handler, route)
    return found
