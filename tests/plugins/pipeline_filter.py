"""
title: A Pipelines-format filter (canonical shape: the instance's valves target every model)
"""

from typing import List

from pydantic import BaseModel


class Pipeline:
    class Valves(BaseModel):
        pipelines: List[str] = []
        priority: int = 0

    def __init__(self):
        self.type = "filter"
        self.name = "Pipeline filter"
        self.valves = self.Valves(**{"pipelines": ["*"]})

    async def inlet(self, body: dict, user: dict) -> dict:
        # A Pipelines module runs under its id, so __name__ tells two installs apart.
        body.setdefault("trail", []).append(f"{__name__}:{user['name']}")
        return body

    async def outlet(self, body: dict, user: dict) -> dict:
        body["messages"][-1]["content"] += f"<{__name__}>"
        return body
