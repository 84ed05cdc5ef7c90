"""
title: A sync pipe (on a worker thread) emits an event with asyncio.run and fire-and-forget
"""

import asyncio


class Pipe:
    def pipe(self, body: dict, __event_emitter__) -> str:
        asyncio.run(__event_emitter__({"type": "status", "data": {"description": "via run"}}))
        __event_emitter__({"type": "status", "data": {"description": "fire and forget"}})
        return "emitted"
