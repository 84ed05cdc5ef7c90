"""
title: A filter without UserValves (priority 1); records whether __user__ holds "valves"
"""

from pydantic import BaseModel


class Filter:
    class Valves(BaseModel):
        priority: int = 1

    def __init__(self):
        self.valves = self.Valves()

    async def inlet(self, body: dict, __user__: dict, __id__: str) -> dict:
        body.setdefault("seen_valves", []).append(
            {"id": __id__, "has_valves": "valves" in __user__}
        )
        return body
