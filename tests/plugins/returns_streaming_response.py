"""
title: Returns a StreamingResponse of SSE lines with awkward item boundaries
"""

import json

from starlette.responses import StreamingResponse


def line(content, finish=None):
    chunk = {
        "id": "upstream-chunk-id",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "upstream-model",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}],
    }
    return "data: " + json.dumps(chunk) + "\n\n"


class Pipe:
    async def pipe(self, body: dict):
        async def body_iterator():
            yield line("one ")
            yield line("two ") + line("three ")  # two events in one item
            split = line("four")
            yield split[:25]  # one event split across two items
            yield split[25:].encode()  # (and bytes, as upstream proxies yield)
            yield "data: [DONE]\n\n"

        return StreamingResponse(body_iterator(), media_type="text/event-stream")
