"""
title: Reports a valve, then changes it on self.valves
"""

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        count: int = 0

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict) -> str:
        seen = self.valves.count
        self.valves.count += 100
        return f"count={seen}"
