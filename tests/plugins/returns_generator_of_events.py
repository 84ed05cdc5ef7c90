"""
title: Yields {"event": ...} dicts between text
"""


class Pipe:
    async def pipe(self, body: dict):
        yield {"event": {"type": "status", "data": {"description": "thinking", "done": False}}}
        yield "answer "
        yield {"event": {"type": "status", "data": {"description": "done", "done": True}}}
        yield "text"
