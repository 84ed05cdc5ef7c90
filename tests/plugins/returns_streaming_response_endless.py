"""
title: Returns a StreamingResponse whose body never ends by itself; records when it is closed
"""

import asyncio
import json

from starlette.responses import StreamingResponse


class Pipe:
    def __init__(self):
        self.closed = asyncio.Event()

    async def pipe(self, body: dict):
        self.closed.clear()

        async def body_iterator():
            try:
                n = 0
                while True:
                    n += 1
                    chunk = {"choices": [{"index": 0, "delta": {"content": f"tick{n} "}}]}
                    yield "data: " + json.dumps(chunk) + "\n\n"
                    await asyncio.sleep(0)
            finally:
                self.closed.set()  # an upstream connection would be released here

        return StreamingResponse(body_iterator(), media_type="text/event-stream")
