"""
title: Reports cumulative usage in two chunks, as some upstreams do
"""


class Pipe:
    async def pipe(self, body: dict):
        yield {"choices": [{"index": 0, "delta": {"content": "counted"}}],
               "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}}
        yield {"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}}
