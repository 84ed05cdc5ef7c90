"""`POST /api/chat/actions/{action_id}`: a click on an action's button, as Open WebUI's UI sends
it (Open WebUI 0.12.4 utils/actions.py). The action's return value is the answer; its events go to
the caller's event
channel (`GET /api/v1/events`), for the chat and message the body names."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from pipehouse.api.params import ActionId
from pipehouse.api.principal import Principal, current_user
from pipehouse.runtime.action_body import SCHEMA, check_action_body
from pipehouse.runtime.actions import run_action
from pipehouse.runtime.encoding import dumps
from pipehouse.runtime.errors import RequestError

router = APIRouter(tags=["actions"])


@router.post(
    "/api/chat/actions/{action_id}",
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": SCHEMA}}}
    },
)
async def chat_action(
    action_id: ActionId, request: Request, user: Principal = Depends(current_user)
) -> Response:
    """Run an action (`function_id`, or `function_id.sub_id` for one of its `actions`). The
    body is Open WebUI's: `model` (required), `messages`, `chat_id`, `id` (the message the
    button is under), `session_id`; the whole body reaches the action. Answers with what the
    action returned, as JSON (`null` for None)."""
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"the request body is not valid JSON: {exc}") from exc
    body = check_action_body(body)
    chat_id = body.get("chat_id")
    message_id = body.get("id")
    result = await run_action(
        request.app.state.runtime,
        action_id,
        body,
        user.user,
        host=request.app.state.event_host(user, chat_id, message_id),
        request={"request": request},
    )
    if result.media_type is not None:
        return Response(result.value, status_code=result.status_code, media_type=result.media_type)
    return Response(dumps(result.value), media_type="application/json")
