"""
title: Bench stream filter
description: A stream hook that hands every chunk back unchanged.
"""

from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 0

    def __init__(self):
        self.valves = self.Valves()

    async def stream(self, event: dict) -> dict:
        return event
