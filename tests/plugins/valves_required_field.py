"""
title: A Valves class with a field that has no default
"""

from pydantic import BaseModel, Field


class Filter:
    class Valves(BaseModel):
        endpoint: str = Field(description="Where to send the copy")
        timeout: int = 30

    def __init__(self):
        self.valves = self.Valves(endpoint="https://hooks.example.com")

    def inlet(self, body: dict) -> dict:
        return body
