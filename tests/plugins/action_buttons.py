"""
title: Buttons
description: Several buttons from one action, ordered by a priority valve.
icon_url: data:image/svg+xml;base64,QUJD
"""

from pydantic import BaseModel


class Action:
    class Valves(BaseModel):
        priority: int = 0

    def __init__(self):
        self.valves = self.Valves()
        self.actions = [
            {"id": "summarize", "name": "Summarize"},
            {"id": "translate", "icon_url": "https://example.com/t.svg"},
            {"id": "v1.2", "name": "Dotted"},
        ]

    async def action(self, body: dict, __id__: str) -> dict:
        return {"clicked": __id__, "priority": self.valves.priority}
