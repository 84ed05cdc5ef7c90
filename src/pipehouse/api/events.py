"""The event side channel over HTTP: subscribe to your own events (SSE), answer event calls.

    GET  /api/v1/events[?chat_id=ID]        text/event-stream of the caller's events
    POST /api/v1/events/calls/{call_id}     the answer to an event call, as the JSON body

Every frame is one JSON object (`runtime/event_channel.py` lists them); the first is
`{"type": "ready"}`, sent once the subscription is live, so a client knows that what it asks
for next will be heard. A comment line keeps idle connections open through proxies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request

from pipehouse.api.params import PathId
from pipehouse.api.principal import Principal, current_user
from pipehouse.api.sse import SSEResponse
from pipehouse.runtime.encoding import frame
from pipehouse.runtime.event_channel import CLOSING, EventChannel

router = APIRouter(prefix="/api/v1/events", tags=["events"])

KEEPALIVE_SECONDS = 15.0
_KEEPALIVE = b": keep-alive\n\n"


async def _frames(channel: EventChannel, user_id: str, chat_id: str | None) -> AsyncIterator[bytes]:
    async with channel.subscribe(user_id, chat_id) as subscription:
        yield frame({"type": "ready", "chat_id": chat_id})
        while True:
            envelope = await subscription.next(KEEPALIVE_SECONDS)
            yield _KEEPALIVE if envelope is None else frame(envelope)
            if envelope is CLOSING:
                return
            if subscription.overflowed and subscription.queue.empty():
                message = "events were dropped because this client fell behind; subscribe again"
                yield frame({"type": "error", "message": message})
                return


@router.get("")
async def subscribe(
    request: Request, chat_id: str | None = None, user: Principal = Depends(current_user)
) -> SSEResponse:
    """Your events as server-sent events: every chat's, or only `chat_id`'s. Event calls
    (`"type": "call"`) are answered with `POST /api/v1/events/calls/{call_id}`."""
    return SSEResponse(_frames(request.app.state.events, user.id, chat_id))


@router.post("/calls/{call_id}")
async def answer_call(
    call_id: PathId, request: Request, user: Principal = Depends(current_user)
) -> dict[str, Any]:
    """The body (any JSON value) is what the plugin's `__event_call__` returns. 404 when the
    call is not waiting for you: unknown, answered already, timed out, or another user's."""
    try:
        value = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise HTTPException(400, f"the answer must be JSON: {exc}") from exc
    if not await request.app.state.events.answer(user.id, call_id, value):
        raise HTTPException(404, f"No event call '{call_id}' is waiting for an answer from you")
    return {"accepted": True}
