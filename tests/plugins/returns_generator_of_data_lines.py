"""
title: Yields ready-made 'data: {...}' SSE strings and 'data: [DONE]', as a proxy does
"""

import json


def data(n, delta, finish=None):
    chunk = {
        "id": f"upstream-{n}",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "upstream-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return "data: " + json.dumps(chunk) + "\n\n"


class Pipe:
    async def pipe(self, body: dict):
        yield data(1, {"content": "up"})
        yield data(2, {"content": "stream"})
        yield data(3, {}, "stop")
        yield "data: [DONE]\n\n"
