"""
title: Fails with an error message that quotes its API key (as careless HTTP clients do)
"""

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        api_key: str = ""

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict) -> str:
        raise RuntimeError(f"401 from upstream for https://api.example/v1?key={self.valves.api_key}")
