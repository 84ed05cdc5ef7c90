"""
title: Valves of several types, for KEY=VALUE assignments
"""

from typing import Optional

from pydantic import BaseModel, SecretStr


class Pipe:
    class Valves(BaseModel):
        retries: int = 3
        temperature: float = 0.7
        stream: bool = False
        stop: list[str] = []
        headers: dict = {}
        prompt: str = ""
        nickname: Optional[str] = None
        token: SecretStr = SecretStr("")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict) -> str:
        return self.valves.prompt
