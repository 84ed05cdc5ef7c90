"""
title: Bench async pipe
description: Yields `max_tokens` copies of a short token from an async generator, and the usage
  a provider would report when the client asks for it.
"""

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        TOKEN: str = "tok "

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict, __event_emitter__=None):
        token = self.valves.TOKEN
        events = bool(body.get("bench_events")) and __event_emitter__ is not None
        if events:
            await __event_emitter__(
                {"type": "status", "data": {"description": "writing", "done": False}}
            )
        count = int(body.get("max_tokens") or 0)
        for _ in range(count):
            yield token
        if (body.get("stream_options") or {}).get("include_usage"):
            yield {
                "choices": [],
                "usage": {
                    "prompt_tokens": 1,
                    "completion_tokens": count,
                    "total_tokens": count + 1,
                },
            }
        if events:
            await __event_emitter__(
                {"type": "status", "data": {"description": "done", "done": True}}
            )
