"""
title: Marks its id on every hook (inlet: body["trail"], stream: [id] per text chunk, outlet: <id>)
"""

from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 0

    def __init__(self):
        self.valves = self.Valves()

    async def inlet(self, body: dict, __id__: str) -> dict:
        body.setdefault("trail", []).append(__id__)
        return body

    async def stream(self, event: dict, __id__: str) -> dict:
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                delta["content"] += f"[{__id__}]"
        return event

    async def outlet(self, body: dict, __id__: str) -> dict:
        body["messages"][-1]["content"] += f"<{__id__}>"
        return body
