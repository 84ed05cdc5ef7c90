"""
title: Admin secret pipe
description: Answers with the valves and user valves it was given, secrets included.
"""

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        api_key: str = ""
        model: str = "small"
        retries: int = 1

    class UserValves(BaseModel):
        token: str = ""
        tone: str = "plain"

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict, __user__: dict) -> str:
        mine = __user__["valves"]
        return (
            f"key={self.valves.api_key} model={self.valves.model} retries={self.valves.retries} "
            f"token={mine.token} tone={mine.tone}"
        )
