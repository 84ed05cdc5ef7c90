"""
title: Upstream Byte Relay
author: open-webui-community
version: 0.1.2
description: Relays an upstream answer as raw bytes, cut at fixed sizes, as proxies read sockets.
"""

from pydantic import BaseModel, Field
from starlette.responses import StreamingResponse

ANSWER = "héllo € 👋"


class Pipe:
    class Valves(BaseModel):
        as_sse: bool = Field(default=False, description="Relay as a StreamingResponse of SSE")
        chunk_size: int = Field(default=2, description="Bytes per chunk")

    def __init__(self):
        self.valves = self.Valves()

    def _chunks(self, data: bytes):
        size = self.valves.chunk_size
        return [data[i : i + size] for i in range(0, len(data), size)]

    async def pipe(self, body: dict):
        if not self.valves.as_sse:
            return self._relay(ANSWER.encode())
        event = 'data: {"choices": [{"index": 0, "delta": {"content": "%s"}}]}\n\n' % ANSWER
        return StreamingResponse(self._relay(event.encode()), media_type="text/event-stream")

    async def _relay(self, data: bytes):
        for chunk in self._chunks(data):
            yield chunk
