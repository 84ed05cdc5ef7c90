"""
title: Bench inlet filter
description: A global filter whose inlet hands the body back, so the filter chain runs.
"""

from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 0

    def __init__(self):
        self.valves = self.Valves()

    async def inlet(self, body: dict, __user__: dict | None = None) -> dict:
        return body
