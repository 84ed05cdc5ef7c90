"""
title: Emits status events between pieces of text
"""


class Pipe:
    async def pipe(self, body: dict, __event_emitter__):
        await __event_emitter__({"type": "status", "data": {"description": "starting", "done": False}})
        yield "first "
        await __event_emitter__({"type": "status", "data": {"description": "halfway", "done": False}})
        yield "second"
        await __event_emitter__({"type": "status", "data": {"description": "finished", "done": True}})
