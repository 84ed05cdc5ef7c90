"""
title: A Pipelines-format pipe answering with a valve its __init__ set
"""

from pydantic import BaseModel


class Pipeline:
    class Valves(BaseModel):
        greeting: str = "class default"

    def __init__(self):
        self.name = "Reports valves"
        self.valves = self.Valves(greeting="set in __init__")

    def pipe(self, user_message: str, model_id: str, messages: list, body: dict) -> str:
        return self.valves.greeting
