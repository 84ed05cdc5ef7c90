"""
title: CLI shout filter
"""

from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 0
        mark: str = "!"

    def __init__(self):
        self.valves = self.Valves()

    def inlet(self, body: dict) -> dict:
        body["messages"][-1]["content"] = body["messages"][-1]["content"].upper()
        return body

    async def stream(self, event: dict) -> dict:
        for choice in event.get("choices", []):
            delta = choice.get("delta", {})
            if delta.get("content"):
                delta["content"] = delta["content"].replace(" ", self.valves.mark)
        return event
