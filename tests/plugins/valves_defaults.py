"""
title: Valves and UserValves with defaults
"""

from typing import Optional

from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        base_url: str = "https://api.example.com/v1"
        retries: int = 3
        note: Optional[str] = None

    class UserValves(BaseModel):
        style: str = "short"
        max_words: int = 100

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict) -> str:
        return self.valves.base_url
