"""
title: A pipe with UserValves reports __user__["valves"]
"""

import json

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        model_hint: str = "default-hint"

    class UserValves(BaseModel):
        tone: str = "neutral"
        max_words: int = 50

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(self, body: dict, __user__: dict) -> str:
        valves = __user__.get("valves")
        return json.dumps(
            {
                "valves_type": type(valves).__name__,
                "valves": valves.model_dump() if valves is not None else None,
                "user_id": __user__.get("id"),
                "admin_valve": self.valves.model_hint,
            }
        )
