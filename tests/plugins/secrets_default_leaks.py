"""
title: Secret default leaks
author: pipehouse tests
description: A pipe whose API key is written in the code as the valve's default, and whose
  client quotes the key when the upstream refuses it (as careless HTTP wrappers do).
version: 0.1.0
"""

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        API_KEY: str = Field(
            default="sk-default-4f9c2e7a1b3d5f6e8a0c",
            description="Key for the upstream service",
        )
        MODEL: str = Field(default="small", description="Which model to ask")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict):
        if body.get("stream"):
            return self._stream()
        raise RuntimeError(f"401 Unauthorized: invalid key {self.valves.API_KEY}")

    def _stream(self):
        yield "Thinking... "
        raise RuntimeError(f"401 Unauthorized: invalid key {self.valves.API_KEY}")
