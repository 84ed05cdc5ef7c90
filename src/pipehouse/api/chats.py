"""Chats under `/api/v1/chats` and `POST /api/chat/completed`, with Open WebUI 0.12.4's paths and
payloads: enough for a client to keep conversations on the server, so that plugins reading the
history of `__chat_id__` find it. Who may see which chat is `service/chats.py`'s rule; where
pipehouse answers differently from Open WebUI, docs/compatibility.md ("Chats") says why.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from pipehouse.api.params import OptionalPage, PathId
from pipehouse.api.principal import Principal, current_user
from pipehouse.runtime.completed import run_outlets
from pipehouse.runtime.encoding import dumps
from pipehouse.runtime.errors import RequestError
from pipehouse.service.chats import ChatService, chat_response

router = APIRouter(tags=["chats"])
PREFIX = "/api/v1/chats"


class ChatForm(BaseModel):
    """Open WebUI's `ChatForm`; `folder_id` and `variables` are accepted and not kept."""

    chat: dict[str, Any]
    folder_id: str | None = None
    variables: dict[str, Any] | None = None


def service(request: Request) -> ChatService:
    return request.app.state.chats


@router.post(f"{PREFIX}/new")
async def create_chat(
    request: Request, form: ChatForm, user: Principal = Depends(current_user)
) -> dict[str, Any]:
    """A new chat for the caller from Open WebUI's chat document (`title`, `models`,
    `history: {messages, currentId}`, `messages`); missing parts are filled in. Answers the
    stored chat (`ChatResponse`), with its new `id`."""
    return chat_response(await service(request).create(user, form.chat))


@router.get(PREFIX, include_in_schema=False)
@router.get(f"{PREFIX}/")
@router.get(f"{PREFIX}/list")
async def list_chats(
    request: Request, page: OptionalPage = None, user: Principal = Depends(current_user)
) -> list[dict[str, Any]]:
    """The caller's chats, `{id, title, updated_at, created_at}`, most recently updated first;
    all of them, or 60 per `page` (from 1)."""
    return await service(request).titles(user.id, page)


@router.get(f"{PREFIX}/{{chat_id}}")
async def get_chat(
    request: Request, chat_id: PathId, user: Principal = Depends(current_user)
) -> dict[str, Any]:
    """One chat with its whole document; 404 unless it is the caller's (admins: any)."""
    return chat_response(await service(request).readable(chat_id, user))


@router.delete(f"{PREFIX}/{{chat_id}}")
async def delete_chat(
    request: Request, chat_id: PathId, user: Principal = Depends(current_user)
) -> bool:
    """Delete a chat; `true`, or 404 unless it is the caller's (admins: any)."""
    return await service(request).delete_as(chat_id, user)


@router.post("/api/chat/completed")
async def chat_completed(request: Request, user: Principal = Depends(current_user)) -> Response:
    """Run the outlet filters of `model` over a finished exchange (deprecated in Open WebUI,
    still used): the body is `{model, messages, chat_id?, session_id?, id?, filter_ids?}`, the
    answer is the body the outlets leave. A `chat_id` naming someone else's chat is a 404."""
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"the request body is not valid JSON: {exc}") from exc
    chat_id = body.get("chat_id") if isinstance(body, dict) else None
    if isinstance(chat_id, str) and chat_id:
        await service(request).is_callers(chat_id, user)
    else:
        chat_id = None
    message_id = body.get("id") if isinstance(body, dict) else None
    message_id = message_id if isinstance(message_id, str) else None
    result = await run_outlets(
        request.app.state.runtime,
        body,
        user.user,
        host=request.app.state.event_host(user, chat_id, message_id),
        request={"request": request},
    )
    return Response(dumps(result), media_type="application/json")
