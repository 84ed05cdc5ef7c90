"""
title: Reports a list valve, then appends to it in place
"""

from typing import List

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        seen: List[str] = []

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict) -> str:
        before = list(self.valves.seen)
        self.valves.seen.append("x")
        return f"seen={before}"
