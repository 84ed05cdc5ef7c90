"""
title: A Pipelines pipe recording its lifecycle hooks
"""

from pydantic import BaseModel


class Pipeline:
    class Valves(BaseModel):
        greeting: str = "hello"

    def __init__(self):
        self.valves = self.Valves()
        self.calls = []

    async def on_startup(self):
        self.calls.append("startup")

    async def on_shutdown(self):
        self.calls.append("shutdown")

    async def on_valves_updated(self):
        self.calls.append(f"valves_updated:{self.valves.greeting}")

    def pipe(self, user_message: str, model_id: str, messages: list, body: dict) -> str:
        return f"{self.valves.greeting} | " + ",".join(self.calls)
