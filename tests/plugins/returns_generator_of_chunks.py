"""
title: Yields OpenAI chunks that carry their own ids, and its own finish chunk
"""


def chunk(n, delta, finish=None):
    return {
        "id": f"upstream-{n}",
        "object": "chat.completion.chunk",
        "created": 1700000000 + n,
        "model": "upstream-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


class Pipe:
    async def pipe(self, body: dict):
        yield chunk(1, {"role": "assistant", "content": ""})
        yield chunk(2, {"content": "chunk "})
        yield chunk(3, {"content": "by chunk"})
        yield chunk(4, {}, "stop")
