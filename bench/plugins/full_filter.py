"""
title: Bench full filter
description: inlet, stream and outlet hooks, with valves, user valves and an event emitter.
"""

from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 0

    class UserValves(BaseModel):
        enabled: bool = True

    def __init__(self):
        self.valves = self.Valves()

    async def inlet(self, body: dict, __user__: dict, __event_emitter__=None) -> dict:
        valves = __user__.get("valves")
        if __event_emitter__ is not None and (valves is None or valves.enabled):
            await __event_emitter__({"type": "status", "data": {"description": "inlet"}})
        return body

    async def stream(self, event: dict) -> dict:
        return event

    async def outlet(self, body: dict, __user__: dict) -> dict:
        return body
