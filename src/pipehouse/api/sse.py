"""Server-sent event responses."""

from __future__ import annotations

from typing import Any

from starlette.responses import StreamingResponse

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class SSEResponse(StreamingResponse):
    """An event stream that is closed as soon as the response ends, however it ends. Starlette
    leaves a stream that was cancelled mid-send to the garbage collector, and until then what
    feeds it (a pipe, an upstream request, a subscription) goes on for a client that has left."""

    def __init__(self, content: Any) -> None:
        super().__init__(content, media_type="text/event-stream", headers=SSE_HEADERS)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()  # type: ignore[attr-defined]
