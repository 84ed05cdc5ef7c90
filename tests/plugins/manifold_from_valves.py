"""
title: A manifold listing the models named in its valves
"""

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        MODELS: str = "default-model"

    def __init__(self):
        self.valves = self.Valves()

    def pipes(self):
        return [{"id": m, "name": m.upper()} for m in self.valves.MODELS.split(",")]

    async def pipe(self, body: dict) -> str:
        return body["model"]
