"""
title: Returns a StreamingResponse whose body raises after one event
"""

from starlette.responses import StreamingResponse


class Pipe:
    async def pipe(self, body: dict):
        async def body_iterator():
            yield 'data: {"choices": [{"index": 0, "delta": {"content": "partial "}}]}\n\n'
            raise ConnectionError("upstream connection reset")

        return StreamingResponse(body_iterator(), media_type="text/event-stream")
