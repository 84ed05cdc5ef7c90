"""
title: Runs after the file handler (priority 1) and records the files it still sees
"""

from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 1

    def __init__(self):
        self.valves = self.Valves()

    async def inlet(self, body: dict) -> dict:
        body["later_filter_saw_files"] = len(body.get("files") or [])
        return body
