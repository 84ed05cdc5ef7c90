"""
title: Valves holding secrets next to ordinary settings
"""

from typing import Optional

from pydantic import BaseModel, Field, SecretStr


class Pipe:
    class Valves(BaseModel):
        OPENAI_API_KEY: str = ""
        apiKey: str = ""
        access_token: str = ""
        PASSWORD: str = ""
        signing: SecretStr = SecretStr("")
        fallback_signing: Optional[SecretStr] = None
        webhook: str = Field(default="", json_schema_extra={"input": {"type": "password"}})
        model: str = "gpt-4o-mini"
        temperature: float = 0.7
        max_tokens: int = 512

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict) -> str:
        return self.valves.model
