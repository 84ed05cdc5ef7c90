"""
title: Pipeline stuck applying new valves
"""

import asyncio

from pydantic import BaseModel


class Pipeline:
    class Valves(BaseModel):
        MODEL: str = "small"

    def __init__(self):
        self.name = "Stuck on valves updated"
        self.valves = self.Valves()

    async def on_valves_updated(self):
        await asyncio.Event().wait()

    def pipe(self, user_message: str, model_id: str, messages: list, body: dict) -> str:
        return user_message
